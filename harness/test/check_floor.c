/* SPDX-License-Identifier: MIT */
/*
 * floor() for libcheck, so that the test binaries need not load libm. libcheck's only use of libm is
 * floor() on its timeouts, and under Valgrind every shared library costs start-up time (libm's debug
 * information adds about 40 ms to every 'make check'). Exact for the values Check passes (timeouts in
 * seconds, far below 2^63).
 */
double floor(double x);

double floor(double x)
{
        double truncated = (double) (long long) x;

        return truncated > x ? truncated - 1.0 : truncated;
}
