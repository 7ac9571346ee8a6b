/* SQLite benchmark: T threads, each with its own in-memory database, insert
 * N rows in one transaction, build an index and run aggregate and point
 * queries. CPU and malloc bound (SQLite's allocator is libc malloc, shared by
 * the threads). Built from libsqlite3-sys's bundled sqlite3.c, unmodified.
 * Usage: sqlite [T [N]] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "sqlite3.h"

static int rows;

struct job {
    int id;
    long long check;
    int failed;
};

static void *work(void *arg)
{
    struct job *job = arg;
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL, *get = NULL, *agg = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) goto fail;
    if (sqlite3_exec(db,
                     "CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, name TEXT);"
                     "BEGIN;",
                     NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    if (sqlite3_prepare_v2(db, "INSERT INTO t(k, name) VALUES (?1, ?2)", -1, &ins, NULL)) goto fail;
    unsigned x = 12345u + (unsigned)job->id;
    for (int i = 0; i < rows; i++) {
        char name[32];
        x = x * 1103515245u + 12345u;
        snprintf(name, sizeof name, "name-%u", x % 100000);
        sqlite3_bind_int(ins, 1, (int)(x % 1000));
        sqlite3_bind_text(ins, 2, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(ins) != SQLITE_DONE) goto fail;
        sqlite3_reset(ins);
    }
    if (sqlite3_exec(db, "COMMIT; CREATE INDEX tk ON t(k);", NULL, NULL, NULL) != SQLITE_OK) goto fail;
    if (sqlite3_prepare_v2(db, "SELECT count(*), sum(length(name)) FROM t WHERE k = ?1", -1, &get, NULL))
        goto fail;
    for (int k = 0; k < 1000; k++) {
        sqlite3_bind_int(get, 1, k);
        if (sqlite3_step(get) != SQLITE_ROW) goto fail;
        job->check += sqlite3_column_int64(get, 0) * 3 + sqlite3_column_int64(get, 1);
        sqlite3_reset(get);
    }
    if (sqlite3_prepare_v2(db, "SELECT k, count(*), max(name) FROM t GROUP BY k ORDER BY 2 DESC, 1 LIMIT 5",
                           -1, &agg, NULL))
        goto fail;
    while (sqlite3_step(agg) == SQLITE_ROW) job->check += sqlite3_column_int64(agg, 0) * sqlite3_column_int64(agg, 1);
    sqlite3_finalize(ins);
    sqlite3_finalize(get);
    sqlite3_finalize(agg);
    sqlite3_close(db);
    return NULL;
fail:
    fprintf(stderr, "thread %d: %s\n", job->id, db ? sqlite3_errmsg(db) : "cannot open");
    job->failed = 1;
    sqlite3_finalize(ins);
    sqlite3_finalize(get);
    sqlite3_finalize(agg);
    sqlite3_close(db);
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    rows = argc > 2 ? atoi(argv[2]) : 100000;
    if (threads < 1 || threads > 16 || rows < 1) return 2;
    pthread_t tid[16];
    struct job jobs[16] = {{0}};
    for (int t = 0; t < threads; t++) {
        jobs[t].id = t;
        if (pthread_create(&tid[t], NULL, work, &jobs[t])) return 1;
    }
    int failed = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        failed |= jobs[t].failed;
        printf("thread %d: check=%lld\n", t, jobs[t].check);
    }
    return failed;
}
