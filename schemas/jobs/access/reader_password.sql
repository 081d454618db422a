-- ClickHouse server only: the reader's password and profile, for a user made by an earlier run.
ALTER USER spanhouse_reader
    IDENTIFIED WITH sha256_password BY {password:String}
    SETTINGS PROFILE 'spanhouse_reader'
