// SQLite store tests (in progress).
