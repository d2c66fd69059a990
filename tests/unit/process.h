// Running the built programs from tests, and temporary directories that
// clean up after themselves.
#pragma once

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "testdata.h"

extern char** environ;

namespace fh::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "fh_test.XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

inline std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct Run {
  bool exited = false;  // by exit(), not by a signal
  int exitCode = -1;
  int signal = 0;
  std::string out, err;
};

// Starts build/bin/`program` with `args`, stdin from /dev/null, stdout and
// stderr to files in `dir`; returns its pid.
inline pid_t start(const std::string& program, const std::vector<std::string>& args, const TempDir& dir,
                   const std::string& tag) {
  const std::string path = binary(program);
  REQUIRE(::access(path.c_str(), X_OK) == 0);
  std::vector<std::string> argvStrings{path};
  argvStrings.insert(argvStrings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argvStrings) argv.push_back(s.data());
  argv.push_back(nullptr);
  const std::string outPath = (dir.path() / (tag + ".out")).string();
  const std::string errPath = (dir.path() / (tag + ".err")).string();
  posix_spawn_file_actions_t actions;
  REQUIRE(posix_spawn_file_actions_init(&actions) == 0);
  REQUIRE(posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) == 0);
  REQUIRE(posix_spawn_file_actions_addopen(&actions, 1, outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600) == 0);
  REQUIRE(posix_spawn_file_actions_addopen(&actions, 2, errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600) == 0);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, path.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(spawned == 0);
  return pid;
}

inline Run finish(pid_t pid, const TempDir& dir, const std::string& tag) {
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  Run r;
  r.exited = WIFEXITED(status);
  r.exitCode = r.exited ? WEXITSTATUS(status) : -1;
  r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  r.out = readFile(dir.path() / (tag + ".out"));
  r.err = readFile(dir.path() / (tag + ".err"));
  return r;
}

// Runs a program to its end.
inline Run run(const std::string& program, const std::vector<std::string>& args) {
  TempDir dir;
  return finish(start(program, args, dir, "run"), dir, "run");
}

}  // namespace fh::test
