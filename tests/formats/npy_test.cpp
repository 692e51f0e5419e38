// Tests for the .npy parser and writer.
#include "formats/npy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "formats/format_error.h"
#include "formats/mapped_file.h"
#include "tests/test_files.h"

namespace longrope::formats {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A handcrafted .npy: magic, version, little-endian header length, header text, data.
std::vector<uint8_t> make_npy(const std::string& header, size_t data_bytes, int major = 1) {
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  const size_t len_bytes = major == 1 ? 2 : 4;
  for (size_t i = 0; i < len_bytes; ++i) out.push_back(static_cast<uint8_t>(header.size() >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  for (size_t i = 0; i < data_bytes; ++i) out.push_back(static_cast<uint8_t>(i));
  return out;
}

std::string npy_error(const std::vector<uint8_t>& bytes) {
  try {
    parse_npy(bytes.data(), bytes.size(), "x.npy");
  } catch (const FormatError& e) {
    return e.what();
  }
  return "<no FormatError>";
}

class NpyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_temp_dir("npy");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(NpyTest, RoundTripsEveryDTypeButBF16) {
  for (DType dtype : all_dtypes()) {
    const std::vector<int64_t> shape = {3, 1, 2};
    std::vector<uint8_t> bytes(6 * dtype_size(dtype));
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 3);
    const std::string p = path(std::string(safetensors_name(dtype)) + ".npy");
    if (dtype == DType::BF16) {
      EXPECT_THROW(write_npy(p, dtype, shape, bytes.data(), bytes.size()), std::invalid_argument);
      continue;
    }
    write_npy(p, dtype, shape, bytes.data(), bytes.size());
    MappedFile file = MappedFile::open(p);
    NpyArray array = parse_npy(file.data(), file.size(), p);
    EXPECT_EQ(array.dtype, dtype) << safetensors_name(dtype);
    EXPECT_EQ(array.shape, shape);
    ASSERT_EQ(array.nbytes, bytes.size());
    EXPECT_EQ(std::memcmp(array.data, bytes.data(), bytes.size()), 0);
    EXPECT_EQ((array.data - file.data()) % 64, 0) << "data must start on a 64-byte boundary";
  }
}

TEST_F(NpyTest, WritesTheSameHeaderAsNumpySave) {
  // Bytes produced by numpy.save(np.zeros((2, 3), np.float32)).
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  const std::string expected =
      std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict + std::string(117 - dict.size(), ' ') + "\n";
  const float zeros[6] = {};
  write_npy(path("z.npy"), DType::F32, {2, 3}, zeros, sizeof(zeros));
  MappedFile file = MappedFile::open(path("z.npy"));
  ASSERT_EQ(file.size(), 128u + sizeof(zeros));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(file.data()), 128), expected);
}

TEST_F(NpyTest, WritesScalarAndEmptyArrays) {
  const int64_t scalar = 42;
  write_npy(path("s.npy"), DType::I64, {}, &scalar, 8);
  MappedFile s = MappedFile::open(path("s.npy"));
  NpyArray a = parse_npy(s.data(), s.size(), "s.npy");
  EXPECT_TRUE(a.shape.empty());
  EXPECT_EQ(std::memcmp(a.data, &scalar, 8), 0);
  write_npy(path("e.npy"), DType::BOOL, {0, 5}, nullptr, 0);
  MappedFile e = MappedFile::open(path("e.npy"));
  EXPECT_THAT(parse_npy(e.data(), e.size(), "e.npy").shape, ElementsAre(0, 5));
  EXPECT_THROW(write_npy(path("bad.npy"), DType::F32, {3}, &scalar, 8), std::invalid_argument);
}

TEST(NpyParseTest, HandcraftedHeaders) {
  auto v1 = make_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }   \n", 16);
  NpyArray a = parse_npy(v1.data(), v1.size(), "v1.npy");
  EXPECT_EQ(a.dtype, DType::I32);
  EXPECT_THAT(a.shape, ElementsAre(2, 2));
  EXPECT_EQ(a.nbytes, 16u);
  EXPECT_EQ(a.data, v1.data() + v1.size() - 16);

  auto v2 = make_npy("{\"shape\": (3L,), \"fortran_order\": True, \"descr\": \"=f2\"}\n", 6, 2);
  NpyArray b = parse_npy(v2.data(), v2.size(), "v2.npy");
  EXPECT_EQ(b.dtype, DType::F16);
  EXPECT_THAT(b.shape, ElementsAre(3));

  auto v3 = make_npy("{'descr':'|b1','fortran_order':False,'shape':()}", 1, 3);
  NpyArray c = parse_npy(v3.data(), v3.size(), "v3.npy");
  EXPECT_EQ(c.dtype, DType::BOOL);
  EXPECT_TRUE(c.shape.empty());
  EXPECT_EQ(c.nbytes, 1u);
}

TEST(NpyParseTest, RejectsBigEndian) {
  EXPECT_EQ(npy_error(make_npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }\n", 4)),
            "x.npy: header: 'descr' '>f4' is big-endian; only little-endian is supported");
}

TEST(NpyParseTest, RejectsTruncatedData) {
  EXPECT_THAT(npy_error(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }\n", 40)),
              AllOf(HasSubstr("x.npy: data: truncated"), HasSubstr("needs 48 bytes but 40 remain")));
  auto full = make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }\n", 0);
  full.resize(20);  // cut inside the header
  EXPECT_THAT(npy_error(full), HasSubstr("x.npy: header length"));
  EXPECT_THAT(npy_error({0x93, 'N', 'U'}), HasSubstr("too short"));
}

TEST(NpyParseTest, RejectsUnsupportedHeaders) {
  EXPECT_THAT(npy_error(make_npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n", 24)),
              HasSubstr("x.npy: header: 'fortran_order' True with shape [2, 3]"));
  EXPECT_THAT(npy_error(make_npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n", 8)),
              HasSubstr("x.npy: header: unsupported 'descr' '<c8'"));
  EXPECT_THAT(npy_error(make_npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n", 8)),
              HasSubstr("structured dtypes are unsupported"));
  EXPECT_THAT(npy_error(make_npy("{'descr': '<f4', 'shape': (1,), }\n", 4)), HasSubstr("missing 'fortran_order'"));
  EXPECT_THAT(npy_error(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n", 4)),
              HasSubstr("'shape'[0] is not a non-negative integer"));
  EXPECT_THAT(npy_error(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), ", 4)),
              HasSubstr("x.npy: header"));
  EXPECT_THAT(npy_error(make_npy("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", 4)),
              HasSubstr("'fortran_order' is not True or False"));
  auto bad_magic = make_npy("{}", 0);
  bad_magic[1] = 'X';
  EXPECT_THAT(npy_error(bad_magic), HasSubstr("x.npy: magic"));
  auto bad_version = make_npy("{}", 0, 4);
  EXPECT_THAT(npy_error(bad_version), HasSubstr("x.npy: version: unsupported npy format 4.0"));
}

}  // namespace
}  // namespace longrope::formats
