// npy: NumPy .npy (format versions 1.0, 2.0, 3.0) zero-copy parser and atomic writer.
//
// Byte layout: "\x93NUMPY", u8 major, u8 minor, then the header length (u16 LE for v1, u32 LE for
// v2/v3), then a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// padded with spaces and a final '\n' so the data starts on a 64-byte boundary; the raw array
// bytes follow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "formats/dtype.h"

namespace longrope::formats {

// Views into the parsed buffer, which must outlive it.
struct NpyArray {
  DType dtype;
  std::vector<int64_t> shape;
  const uint8_t* data;
  size_t nbytes;  // exactly numel * dtype_size; trailing bytes in the file are ignored
};

// Accepts descr <f8 <f4 <f2 <i8 <i4 <i2 <u2 <u4 <u8 ('=' counts as '<') and |i1 |u1 |b1 (any
// byte-order mark for one-byte types). Throws FormatError naming the file and field for
// big-endian data, fortran_order True with more than one dimension, unknown descr, malformed
// headers and truncated data.
NpyArray parse_npy(const uint8_t* bytes, size_t size, const std::string& name_for_errors);

// Writes a v1.0 file atomically, header laid out as numpy.save does. Throws std::invalid_argument
// when nbytes != numel * dtype_size or the dtype has no npy descr (BF16).
void write_npy(const std::string& path, DType dtype, const std::vector<int64_t>& shape, const void* data,
               size_t nbytes);

}  // namespace longrope::formats
