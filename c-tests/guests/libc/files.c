/* Non-threaded wasi-libc guest for the preopen tests: reads /data/in.txt,
 * writes its upper-cased text to /data/out.txt, and checks that /ro refuses
 * writes. Prints "files ok" and exits 0, or names the failed step. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int fail(const char *what)
{
    printf("FAILED: %s (%s)\n", what, strerror(errno));
    return 1;
}

int main(void)
{
    char buf[256];
    FILE *in = fopen("/data/in.txt", "r");
    if (!in) return fail("open /data/in.txt");
    size_t n = fread(buf, 1, sizeof buf - 1, in);
    fclose(in);
    buf[n] = 0;
    for (size_t i = 0; i < n; i++) buf[i] = (char)toupper((unsigned char)buf[i]);
    FILE *out = fopen("/data/out.txt", "w");
    if (!out) return fail("create /data/out.txt");
    fputs(buf, out);
    if (fclose(out) != 0) return fail("close /data/out.txt");
    FILE *ro = fopen("/ro/readme.txt", "r");
    if (!ro) return fail("open /ro/readme.txt");
    fclose(ro);
    if (fopen("/ro/new.txt", "w") != NULL) return fail("/ro accepted a new file");
    if (fopen("/etc/passwd", "r") != NULL) return fail("/etc/passwd is visible");
    puts("files ok");
    return 0;
}
