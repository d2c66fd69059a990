#include "feed/file_source.h"

namespace fh::feed {

std::string FileSourceResult::describe(const std::string& path) const {
  if (!error.empty()) return path + ": " + error;
  if (truncated)
    return path + ": " + capture::formatName(format) + " record at byte offset " + std::to_string(truncatedAt) +
           " is truncated (runs past the end of the file)";
  return path + ": ok";
}

}  // namespace fh::feed
