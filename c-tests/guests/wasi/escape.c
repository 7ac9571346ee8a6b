/* Sandbox escapes are refused. The host preopens a scratch dir as /sandbox
 * (with sub/, a symlink "out" -> "../..", an absolute symlink "abs" ->
 * "/etc", a loop "loop1" <-> "loop2", file "inside.txt") and a read-only
 * dir as /ro (with file "ro.txt"). */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

int main(void) {
    struct stat st;
    /* ".." past the preopen */
    CHECK_ERRNO(open("/sandbox/../etc/passwd", O_RDONLY), EPERM);
    CHECK_ERRNO(open("/sandbox/sub/../../etc/passwd", O_RDONLY), EPERM);
    CHECK_ERRNO(stat("/sandbox/..", &st), EPERM);
    CHECK_ERRNO(mkdir("/sandbox/../escaped", 0755), EPERM);
    /* ".." that stays inside is fine */
    CHECK(stat("/sandbox/sub/../inside.txt", &st) == 0);
    /* absolute paths outside every preopen */
    errno = 0;
    CHECK(open("/etc/passwd", O_RDONLY) == -1 && errno != 0);
    /* symlinks pointing outside */
    CHECK_ERRNO(open("/sandbox/out/etc/passwd", O_RDONLY), EPERM);
    CHECK_ERRNO(open("/sandbox/abs/passwd", O_RDONLY), EPERM);
    CHECK_ERRNO(stat("/sandbox/abs", &st), EPERM);
    CHECK(lstat("/sandbox/abs", &st) == 0 && S_ISLNK(st.st_mode));
    CHECK_ERRNO(opendir("/sandbox/out") == NULL ? -1 : 0, EPERM);
    /* creating an absolute symlink is refused */
    CHECK_ERRNO(symlink("/etc/passwd", "/sandbox/newabs"), EPERM);
    /* symlink loops */
    CHECK_ERRNO(open("/sandbox/loop1", O_RDONLY), ELOOP);
    CHECK_ERRNO(stat("/sandbox/loop1", &st), ELOOP);

    /* read-only preopen: reading works, every change is refused */
    char buf[16] = {0};
    int fd = open("/ro/ro.txt", O_RDONLY);
    CHECK(fd >= 0 && read(fd, buf, sizeof buf) == 2 && strcmp(buf, "ro") == 0);
    CHECK(close(fd) == 0);
    CHECK_ERRNO(open("/ro/ro.txt", O_WRONLY), EROFS);
    CHECK_ERRNO(open("/ro/ro.txt", O_RDWR), EROFS);
    CHECK_ERRNO(open("/ro/ro.txt", O_RDONLY | O_TRUNC), EROFS);
    CHECK_ERRNO(open("/ro/new.txt", O_CREAT | O_WRONLY, 0644), EROFS);
    CHECK_ERRNO(open("/ro/ro.txt", O_WRONLY | O_APPEND), EROFS);
    CHECK_ERRNO(mkdir("/ro/d", 0755), EROFS);
    CHECK_ERRNO(unlink("/ro/ro.txt"), EROFS);
    CHECK_ERRNO(rename("/ro/ro.txt", "/ro/x.txt"), EROFS);
    CHECK_ERRNO(rename("/ro/ro.txt", "/sandbox/x.txt"), EROFS);
    CHECK_ERRNO(link("/ro/ro.txt", "/sandbox/x.txt"), EROFS);
    CHECK_ERRNO(symlink("ro.txt", "/ro/s"), EROFS);
    struct timespec t[2] = {{1000000000, 0}, {1000000000, 0}};
    CHECK_ERRNO(utimensat(AT_FDCWD, "/ro/ro.txt", t, 0), EROFS);
    CHECK(stat("/ro/ro.txt", &st) == 0 && st.st_size == 2);

    printf("escape ok\n");
    return 0;
}
