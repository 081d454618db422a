-- ClickHouse server only: the restricted user tenant queries run as, with its profile.
CREATE USER IF NOT EXISTS spanhouse_reader
    IDENTIFIED WITH sha256_password BY {password:String}
    SETTINGS PROFILE 'spanhouse_reader'
