"""Sources: the systems and channels that send data, each with its own hashed write key."""
