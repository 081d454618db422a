-- The database that holds one tenant's views; a tenant's queries run with it as current database.
CREATE DATABASE IF NOT EXISTS {database:Identifier}
