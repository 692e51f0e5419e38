// MappedFile: a read-only, move-only memory mapping of a whole file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace longrope::formats {

// Mapping instead of reading lets multi-GiB checkpoints be viewed without copying; MAP_PRIVATE
// keeps a concurrent writer's later changes from being promised to us.
class MappedFile {
 public:
  // Throws FormatError "PATH: cannot open: <strerror>" (or cannot stat / not a regular file /
  // cannot mmap). An empty file maps to data() == nullptr, size() == 0.
  static MappedFile open(const std::string& path);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, const uint8_t* data, size_t size);
  void unmap() noexcept;

  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace longrope::formats
