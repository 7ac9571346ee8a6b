/* POSIX path behaviour as a wasi-libc program sees it: a directory opened
 * for writing is EISDIR, trailing slashes name directories, readdir lists
 * hundreds of entries exactly once. Run with /sandbox holding a directory
 * "d" of 300 files and a file "f". */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXPECT(cond)                                                            \
    do {                                                                        \
        if (!(cond)) {                                                          \
            printf("line %d: %s (errno %d)\n", __LINE__, #cond, errno);         \
            return 1;                                                           \
        }                                                                       \
    } while (0)

int main(void)
{
    struct stat st;
    DIR *d;
    int n = 0, fd;
    errno = 0;
    EXPECT(open("/sandbox/d", O_RDWR | O_DIRECTORY) < 0 && errno == EISDIR);
    EXPECT(open("/sandbox/d", O_WRONLY) < 0 && errno == EISDIR);
    fd = open("/sandbox/d", O_RDONLY | O_DIRECTORY);
    EXPECT(fd >= 0);
    close(fd);
    EXPECT(mkdir("/sandbox/n/", 0755) == 0);
    EXPECT(rmdir("/sandbox/n/") == 0);
    EXPECT(stat("/sandbox/d/", &st) == 0 && S_ISDIR(st.st_mode));
    EXPECT(stat("/sandbox/f/", &st) < 0 && errno == ENOTDIR);
    EXPECT(unlink("/sandbox/f/") < 0 && errno == ENOTDIR);
    EXPECT(open("/sandbox/f/", O_RDONLY) < 0 && errno == ENOTDIR);
    d = opendir("/sandbox/d");
    EXPECT(d != NULL);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    }
    closedir(d);
    EXPECT(n == 300);
    printf("posix ok\n");
    return 0;
}
