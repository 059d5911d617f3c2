// VigilSQLite: the embedded default store (in progress).
