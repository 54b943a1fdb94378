"""Console users: roles and what each may do, password hashing, sessions, and lock-out after failed logins."""
