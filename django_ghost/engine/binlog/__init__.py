"""Binary-log reading. The only package allowed to import pymysqlreplication."""
