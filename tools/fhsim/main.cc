// fhsim: the simulator side of the tests and benchmarks. `generate` writes a
// synthetic ITCH 5.0 trading day as a BinaryFILE; more subcommands (publish)
// will replay such files onto the network.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <string>

#include "generator.h"

namespace {

// CLI11 would otherwise read -1 into an unsigned option as 2^64 - 1.
const CLI::Validator kWholeNumber(
    [](std::string& value) -> std::string {
      if (!value.empty() && value.find_first_not_of("0123456789") == std::string::npos) return {};
      return "not a whole number: " + value;
    },
    "");

int runGenerate(const fh::sim::GeneratorOptions& options, const std::string& out) {
  try {
    const auto start = std::chrono::steady_clock::now();
    const fh::sim::GeneratorSummary summary = fh::sim::generate(options, out);
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    std::fprintf(stderr, "fhsim generate: wrote %s in %.1f s (seed %llu)\n%s", out.c_str(), elapsed.count(),
                 static_cast<unsigned long long>(options.seed), fh::sim::describe(summary).c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fhsim generate: %s\n", e.what());
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fhsim: synthetic Nasdaq TotalView-ITCH 5.0 data"};
  app.require_subcommand(1);

  fh::sim::GeneratorOptions generate;
  std::string out;
  CLI::App* generateCmd =
      app.add_subcommand("generate", "Write a deterministic synthetic trading day as a Nasdaq BinaryFILE");
  generateCmd->add_option("--messages", generate.messages, "messages in the file, the day's frame included")
      ->check(kWholeNumber)
      ->check(CLI::Range(uint64_t{1}, uint64_t{UINT32_MAX}))
      ->capture_default_str();
  generateCmd->add_option("--symbols", generate.symbols, "instruments (stock locates 1..N)")
      ->check(kWholeNumber)
      ->check(CLI::Range(uint32_t{1}, uint32_t{65'000}))
      ->capture_default_str();
  generateCmd->add_option("--seed", generate.seed, "the same seed gives the same file")
      ->check(kWholeNumber)
      ->capture_default_str();
  generateCmd->add_option("--out", out, "file to write, - for standard output")->required();

  CLI11_PARSE(app, argc, argv);
  if (generateCmd->parsed()) {
    if (generate.messages < fh::sim::minimumMessages(generate.symbols)) {
      std::fprintf(stderr, "fhsim generate: --messages %llu is too few for --symbols %u: a day needs at least %llu\n",
                   static_cast<unsigned long long>(generate.messages), generate.symbols,
                   static_cast<unsigned long long>(fh::sim::minimumMessages(generate.symbols)));
      return 1;
    }
    return runGenerate(generate, out);
  }
  return 1;
}
