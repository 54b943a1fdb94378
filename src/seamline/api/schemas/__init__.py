"""Wire shapes of the HTTP API (Pydantic), one module per router; never ORM models."""
