/* SPDX-License-Identifier: MIT */
/* main() of a test binary: everything else is in kata_test.c (kata_main). */
int kata_main(void);

int main(void)
{
        return kata_main();
}
