// The command line of labN: Docker's, limited to the verbs and flags of labs 1..N.
#pragma once

namespace mydocker::driver {

/// Parses argv, runs the command, and returns the process's exit code.
int runCli(int argc, char** argv);

}  // namespace mydocker::driver
