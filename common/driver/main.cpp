// The entry point of every lab executable (labNN): everything is in runCli.
#include "cli.hpp"

int main(int argc, char** argv) { return mydocker::driver::runCli(argc, argv); }
