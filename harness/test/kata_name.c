/* The kata's name, for the test runner's messages and Check's suite: the only harness file compiled for each
 * kata (harness/kata.mk passes KATA_NAME); every other harness and toolbox object is built once and shared. */
#ifndef KATA_NAME
#error "KATA_NAME must be defined by the build (harness/kata.mk does it)"
#endif

extern const char kata_name[];
const char kata_name[] = KATA_NAME;
