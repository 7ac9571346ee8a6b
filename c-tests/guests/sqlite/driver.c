/* SQLite from several threads, each with its own connection to one database
 * file: built unmodified (SQLITE_THREADSAFE=1) both as a wasm32-wasip1-threads
 * guest run by weft and as a native program, from this same source; a test
 * compares the two reports byte for byte.
 *
 *   driver DIR      uses DIR/bank.db (the guest gets DIR preopened)
 *
 * 4 writer threads each make 25 transfers between 10 accounts (BEGIN
 * IMMEDIATE; two UPDATEs and an INSERT into a log; COMMIT), 2 reader threads
 * check in 20 read transactions each that the balances still add up. The
 * transfers are fixed per thread, and addition commutes, so every
 * interleaving ends with the same balances: the report is deterministic. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite3.h"

#define ACCOUNTS 10
#define WRITERS 4
#define READERS 2
#define TRANSFERS 25
#define READS 20

static char db_path[4096];

struct job {
    int id;
    int failures;  /* statements that failed for a reason other than SQLITE_BUSY */
    int committed; /* writers: transactions committed */
    int balanced;  /* readers: reads whose total was right */
};

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) fprintf(stderr, "%s: %s\n", sql, msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return rc;
}

static sqlite3 *open_db(void)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        fprintf(stderr, "open %s: %s\n", db_path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 30000);
    return db;
}

/* The k-th transfer of writer w: from, to, amount (deterministic). */
static void transfer(int w, int k, int *from, int *to, int *amount)
{
    unsigned x = (unsigned)(w * 7919 + k * 104729 + 12345) * 2654435761u;
    *from = (int)(x % ACCOUNTS) + 1;
    *to = (int)((x / ACCOUNTS) % (ACCOUNTS - 1)) + 1;
    if (*to >= *from) (*to)++;
    *amount = (int)((x >> 16) % 50) + 1;
}

static void *writer(void *arg)
{
    struct job *job = arg;
    sqlite3 *db = open_db();
    sqlite3_stmt *debit = NULL, *credit = NULL, *log = NULL;
    if (!db) {
        job->failures++;
        return NULL;
    }
    if (sqlite3_prepare_v2(db, "UPDATE account SET balance = balance - ?2 WHERE id = ?1", -1, &debit, NULL) ||
        sqlite3_prepare_v2(db, "UPDATE account SET balance = balance + ?2 WHERE id = ?1", -1, &credit, NULL) ||
        sqlite3_prepare_v2(db, "INSERT INTO log(writer, seq, src, dst, amount) VALUES (?1, ?2, ?3, ?4, ?5)", -1,
                           &log, NULL)) {
        fprintf(stderr, "prepare: %s\n", sqlite3_errmsg(db));
        job->failures++;
    }
    for (int k = 0; k < TRANSFERS && !job->failures;) {
        int from, to, amount, rc;
        transfer(job->id, k, &from, &to, &amount);
        if ((rc = exec(db, "BEGIN IMMEDIATE")) == SQLITE_BUSY) continue;
        if (rc != SQLITE_OK) {
            job->failures++;
            break;
        }
        sqlite3_bind_int(debit, 1, from);
        sqlite3_bind_int(debit, 2, amount);
        sqlite3_bind_int(credit, 1, to);
        sqlite3_bind_int(credit, 2, amount);
        int vals[5] = {job->id, k, from, to, amount};
        for (int i = 0; i < 5; i++) sqlite3_bind_int(log, i + 1, vals[i]);
        sqlite3_stmt *steps[3] = {debit, credit, log};
        for (int i = 0; i < 3; i++) {
            if (sqlite3_step(steps[i]) != SQLITE_DONE) {
                fprintf(stderr, "step: %s\n", sqlite3_errmsg(db));
                job->failures++;
            }
            sqlite3_reset(steps[i]);
        }
        while ((rc = exec(db, "COMMIT")) == SQLITE_BUSY) {}
        if (rc != SQLITE_OK) job->failures++;
        job->committed++;
        k++;
    }
    sqlite3_finalize(debit);
    sqlite3_finalize(credit);
    sqlite3_finalize(log);
    sqlite3_close(db);
    return NULL;
}

static void *reader(void *arg)
{
    struct job *job = arg;
    sqlite3 *db = open_db();
    sqlite3_stmt *sum = NULL;
    if (!db || sqlite3_prepare_v2(db, "SELECT sum(balance), count(*) FROM account", -1, &sum, NULL)) {
        job->failures++;
        sqlite3_close(db);
        return NULL;
    }
    for (int k = 0; k < READS;) {
        int rc = sqlite3_step(sum);
        if (rc == SQLITE_BUSY) {
            sqlite3_reset(sum);
            continue;
        }
        if (rc != SQLITE_ROW) {
            fprintf(stderr, "read: %s\n", sqlite3_errmsg(db));
            job->failures++;
            break;
        }
        if (sqlite3_column_int64(sum, 0) == ACCOUNTS * 1000 && sqlite3_column_int(sum, 1) == ACCOUNTS) job->balanced++;
        sqlite3_reset(sum);
        k++;
    }
    sqlite3_finalize(sum);
    sqlite3_close(db);
    return NULL;
}

static int print_rows(sqlite3 *db, const char *title, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
        return 1;
    }
    printf("%s\n", title);
    while (sqlite3_step(st) == SQLITE_ROW) {
        printf(" ");
        for (int i = 0; i < sqlite3_column_count(st); i++) printf(" %s", (const char *)sqlite3_column_text(st, i));
        printf("\n");
    }
    sqlite3_finalize(st);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: driver DIR\n");
        return 2;
    }
    snprintf(db_path, sizeof db_path, "%s/bank.db", argv[1]);
    remove(db_path);
    printf("sqlite %s, threadsafe %d\n", sqlite3_libversion(), sqlite3_threadsafe());

    sqlite3 *db = open_db();
    if (!db) return 1;
    int bad = exec(db, "CREATE TABLE account(id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);"
                       "CREATE TABLE log(writer INTEGER, seq INTEGER, src INTEGER, dst INTEGER, amount INTEGER,"
                       "                 PRIMARY KEY(writer, seq));"
                       "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)"
                       "  INSERT INTO account SELECT i, 1000 FROM n;") != SQLITE_OK;

    struct job jobs[WRITERS + READERS];
    pthread_t t[WRITERS + READERS];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1 << 20);
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < WRITERS + READERS; i++) {
        jobs[i].id = i < WRITERS ? i : i - WRITERS;
        if (pthread_create(&t[i], &attr, i < WRITERS ? writer : reader, &jobs[i]) != 0) return 1;
    }
    for (int i = 0; i < WRITERS + READERS; i++) {
        pthread_join(t[i], NULL);
        bad += jobs[i].failures;
    }
    for (int i = 0; i < WRITERS; i++) printf("writer %d: %d transactions committed\n", i, jobs[i].committed);
    for (int i = 0; i < READERS; i++)
        printf("reader %d: %d of %d reads saw all %d accounts summing to %d\n", i, jobs[WRITERS + i].balanced, READS,
               ACCOUNTS, ACCOUNTS * 1000);
    bad += print_rows(db, "balances:", "SELECT id, balance FROM account ORDER BY id");
    bad += print_rows(db, "log per writer (transfers, total amount):",
                      "SELECT writer, count(*), sum(amount) FROM log GROUP BY writer ORDER BY writer");
    bad += print_rows(db, "total:", "SELECT sum(balance) FROM account");
    bad += print_rows(db, "integrity_check:", "PRAGMA integrity_check");
    sqlite3_close(db);
    printf("failures: %d\n", bad);
    return bad ? 1 : 0;
}
