/* Files: create, read, write, pread/pwrite, seek, truncate, append, stat,
 * set times, rename, link, symlink, readlink, unlink. The host preopens a
 * scratch directory as /sandbox. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

static void write_all(int fd, const char *s) {
    CHECK(write(fd, s, strlen(s)) == (ssize_t)strlen(s));
}

static void expect_contents(const char *path, const char *want) {
    char buf[256] = {0};
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    CHECK(n == (ssize_t)strlen(want));
    CHECK(memcmp(buf, want, n) == 0);
    CHECK(close(fd) == 0);
}

int main(void) {
    /* create + write + read back */
    int fd = open("/sandbox/a.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0);
    write_all(fd, "hello world");
    CHECK(lseek(fd, 0, SEEK_CUR) == 11);
    CHECK(lseek(fd, 6, SEEK_SET) == 6);
    char buf[64] = {0};
    CHECK(read(fd, buf, 5) == 5 && memcmp(buf, "world", 5) == 0);
    CHECK(read(fd, buf, 5) == 0); /* EOF */
    CHECK(lseek(fd, -5, SEEK_END) == 6);
    CHECK_ERRNO(lseek(fd, -100, SEEK_SET), EINVAL);

    /* pread / pwrite do not move the position */
    CHECK(lseek(fd, 2, SEEK_SET) == 2);
    CHECK(pwrite(fd, "W", 1, 6) == 1);
    memset(buf, 0, sizeof buf);
    CHECK(pread(fd, buf, 5, 6) == 5 && memcmp(buf, "World", 5) == 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == 2);

    /* fstat, ftruncate */
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 11);
    CHECK(ftruncate(fd, 5) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 5);
    CHECK(ftruncate(fd, 100) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 100);
    CHECK(ftruncate(fd, 5) == 0);
    CHECK(posix_fallocate(fd, 0, 4096) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 4096);
    CHECK(ftruncate(fd, 5) == 0);
    CHECK(fsync(fd) == 0 && fdatasync(fd) == 0);
    CHECK(close(fd) == 0);
    expect_contents("/sandbox/a.txt", "hello");

    /* vectored I/O: several buffers, one call, nothing short */
    fd = open("/sandbox/v.bin", O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0);
    static char big1[100000], big2[3], big3[70000];
    memset(big1, 'a', sizeof big1);
    memset(big2, 'b', sizeof big2);
    memset(big3, 'c', sizeof big3);
    struct iovec wv[3] = {{big1, sizeof big1}, {big2, sizeof big2}, {big3, sizeof big3}};
    CHECK(writev(fd, wv, 3) == (ssize_t)(sizeof big1 + sizeof big2 + sizeof big3));
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    static char r1[99999], r2[4], r3[70000];
    struct iovec rv[3] = {{r1, sizeof r1}, {r2, sizeof r2}, {r3, sizeof r3}};
    CHECK(readv(fd, rv, 3) == (ssize_t)(sizeof big1 + sizeof big2 + sizeof big3));
    CHECK(r1[0] == 'a' && r2[0] == 'a' && r2[1] == 'b' && r2[3] == 'b' && r3[0] == 'c' &&
          r3[69999] == 'c');
    CHECK(close(fd) == 0);

    /* O_APPEND always writes at the end */
    fd = open("/sandbox/a.txt", O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    write_all(fd, "!!");
    CHECK(fcntl(fd, F_GETFL) & O_APPEND);
    CHECK(close(fd) == 0);
    expect_contents("/sandbox/a.txt", "hello!!");

    /* access modes: reading a write-only fd, writing a read-only fd */
    fd = open("/sandbox/a.txt", O_WRONLY);
    CHECK(fd >= 0);
    CHECK_ERRNO(read(fd, buf, 1), EBADF);
    CHECK(close(fd) == 0);
    fd = open("/sandbox/a.txt", O_RDONLY);
    CHECK(fd >= 0);
    CHECK_ERRNO(write(fd, "x", 1), EBADF);
    CHECK(close(fd) == 0);
    CHECK_ERRNO(close(fd), EBADF);

    /* open errors */
    CHECK_ERRNO(open("/sandbox/a.txt", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
    CHECK_ERRNO(open("/sandbox/missing", O_RDONLY), ENOENT);
    CHECK_ERRNO(open("/sandbox/a.txt/", O_RDONLY), ENOTDIR);
    CHECK_ERRNO(open("/sandbox/a.txt", O_RDONLY | O_DIRECTORY), ENOTDIR);

    /* stat, set times */
    CHECK(stat("/sandbox/a.txt", &st) == 0 && st.st_size == 7 && st.st_nlink == 1);
    struct timespec times[2] = {{1000000000, 5}, {1200000000, 7}};
    CHECK(utimensat(AT_FDCWD, "/sandbox/a.txt", times, 0) == 0);
    CHECK(stat("/sandbox/a.txt", &st) == 0);
    CHECK(st.st_atim.tv_sec == 1000000000 && st.st_mtim.tv_sec == 1200000000);
    fd = open("/sandbox/a.txt", O_RDWR);
    CHECK(fd >= 0);
    /* (Debian's wasi-libc rejects UTIME_NOW/UTIME_OMIT itself with EINVAL
     * before calling the host; the NOW flags are tested from WAT.) */
    struct timespec later[2] = {{1300000000, 0}, {1400000000, 0}};
    CHECK(futimens(fd, later) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_atim.tv_sec == 1300000000 &&
          st.st_mtim.tv_sec == 1400000000);
    CHECK(close(fd) == 0);

    /* rename, link, symlink, readlink, unlink */
    CHECK(rename("/sandbox/a.txt", "/sandbox/b.txt") == 0);
    CHECK_ERRNO(stat("/sandbox/a.txt", &st), ENOENT);
    CHECK(link("/sandbox/b.txt", "/sandbox/c.txt") == 0);
    CHECK(stat("/sandbox/b.txt", &st) == 0 && st.st_nlink == 2);
    CHECK(symlink("b.txt", "/sandbox/s.txt") == 0);
    char target[64] = {0};
    CHECK(readlink("/sandbox/s.txt", target, sizeof target) == 5);
    CHECK(memcmp(target, "b.txt", 5) == 0);
    CHECK(readlink("/sandbox/s.txt", target, 2) == 2); /* truncated, as POSIX */
    CHECK(lstat("/sandbox/s.txt", &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(stat("/sandbox/s.txt", &st) == 0 && S_ISREG(st.st_mode));
    expect_contents("/sandbox/s.txt", "hello!!");
    CHECK_ERRNO(open("/sandbox/s.txt", O_RDONLY | O_NOFOLLOW), ELOOP);
    CHECK(unlink("/sandbox/s.txt") == 0);
    CHECK(unlink("/sandbox/c.txt") == 0);
    CHECK(stat("/sandbox/b.txt", &st) == 0 && st.st_nlink == 1);
    CHECK_ERRNO(unlink("/sandbox/c.txt"), ENOENT);

    /* stdio through libc */
    printf("files ok\n");
    return 0;
}
