/* Small writes: one thread write(2)s K records of 64 bytes to a file in the
 * current (preopened) directory, the fd_write hot path. Usage: write [K] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long records = argc > 1 ? atol(argv[1]) : 1000000;
    char rec[64];
    memset(rec, 'x', sizeof rec);
    rec[63] = '\n';
    int fd = open("out.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror("open out.bin");
        return 1;
    }
    for (long i = 0; i < records; i++) {
        rec[i % 60] = (char)('a' + i % 26);
        if (write(fd, rec, sizeof rec) != (ssize_t)sizeof rec) {
            perror("write");
            return 1;
        }
    }
    off_t size = lseek(fd, 0, SEEK_CUR);
    close(fd);
    printf("bytes=%lld\n", (long long)size);
    return 0;
}
