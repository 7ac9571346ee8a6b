/* Directories: mkdir, readdir with many entries and cookies (telldir /
 * seekdir / rewinddir), rmdir. The host preopens a scratch dir as /sandbox. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

#define N 300

int main(void) {
    CHECK(mkdir("/sandbox/d", 0755) == 0);
    CHECK_ERRNO(mkdir("/sandbox/d", 0755), EEXIST);
    char path[128];
    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof path, "/sandbox/d/entry-with-a-longish-name-%03d", i);
        int fd = open(path, O_CREAT | O_WRONLY, 0644);
        CHECK(fd >= 0);
        CHECK(close(fd) == 0);
    }
    CHECK(mkdir("/sandbox/d/sub", 0755) == 0);

    static int seen[N];
    int dots = 0, subs = 0, total = 0;
    long cookie_at_100 = -1;
    char name_at_100[256] = {0};
    DIR *d = opendir("/sandbox/d");
    CHECK(d != NULL);
    struct dirent *e;
    for (;;) {
        if (total == 100) {
            cookie_at_100 = telldir(d);
        }
        errno = 0;
        e = readdir(d);
        if (!e) break;
        if (total == 100) snprintf(name_at_100, sizeof name_at_100, "%s", e->d_name);
        total++;
        int i;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            dots++;
            CHECK(e->d_type == DT_DIR);
        } else if (strcmp(e->d_name, "sub") == 0) {
            subs++;
            CHECK(e->d_type == DT_DIR);
        } else {
            CHECK(sscanf(e->d_name, "entry-with-a-longish-name-%d", &i) == 1);
            CHECK(i >= 0 && i < N);
            CHECK(e->d_type == DT_REG);
            CHECK(e->d_ino != 0);
            seen[i]++;
        }
    }
    CHECK(errno == 0);
    CHECK(dots == 2 && subs == 1 && total == N + 3);
    for (int i = 0; i < N; i++) CHECK(seen[i] == 1);

    /* seekdir back to a saved cookie sees the same entry again */
    CHECK(cookie_at_100 >= 0);
    seekdir(d, cookie_at_100);
    e = readdir(d);
    CHECK(e != NULL && strcmp(e->d_name, name_at_100) == 0);
    rewinddir(d);
    int again = 0;
    while ((e = readdir(d)) != NULL) again++;
    CHECK(again == N + 3);
    CHECK(closedir(d) == 0);

    /* directory errors */
    CHECK_ERRNO(rmdir("/sandbox/d"), ENOTEMPTY);
    CHECK_ERRNO(unlink("/sandbox/d/sub"), EISDIR);
    CHECK_ERRNO(rmdir("/sandbox/d/entry-with-a-longish-name-000"), ENOTDIR);
    CHECK_ERRNO(opendir("/sandbox/d/entry-with-a-longish-name-000") == NULL ? -1 : 0, ENOTDIR);
    int fd = open("/sandbox/d", O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0);
    char c;
    CHECK_ERRNO(read(fd, &c, 1), EBADF);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(close(fd) == 0);

    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof path, "/sandbox/d/entry-with-a-longish-name-%03d", i);
        CHECK(unlink(path) == 0);
    }
    CHECK(rmdir("/sandbox/d/sub") == 0);
    CHECK(rmdir("/sandbox/d") == 0);
    CHECK_ERRNO(rmdir("/sandbox/d"), ENOENT);
    printf("dirs ok\n");
    return 0;
}
