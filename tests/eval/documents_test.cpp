// Document loading (text bytes, raw tokens, .npy) and the reference selection rule.
#include "eval/documents.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "formats/npy.h"
#include "tests/test_models.h"

namespace longrope {
namespace {

using ::testing::HasSubstr;

std::vector<Document> docs_of_lengths(std::vector<size_t> lengths) {
  std::vector<Document> out;
  for (size_t i = 0; i < lengths.size(); ++i) out.push_back({"d" + std::to_string(i), std::vector<int32_t>(lengths[i], 1)});
  return out;
}

TEST(Documents, SelectsFirstKLongEnough) {
  const auto kept = select_documents(docs_of_lengths({10, 50, 5, 60, 70, 80}), DocumentSelection{50, 2, std::nullopt}, "set");
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].name, "d1");
  EXPECT_EQ(kept[1].name, "d3");
}

TEST(Documents, SeededSelectionIsReproducible) {
  const auto docs = docs_of_lengths({60, 60, 60, 60, 60, 60, 60, 60});
  const auto a = select_documents(docs, DocumentSelection{50, 3, 42}, "set");
  const auto b = select_documents(docs, DocumentSelection{50, 3, 42}, "set");
  ASSERT_EQ(a.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(a[i].name, b[i].name);
  // The same documents on every standard library (splitmix64 Fisher-Yates, worked in Python): std::shuffle
  // would give libstdc++'s order here and libc++'s elsewhere.
  const auto portable = select_documents(docs_of_lengths({60, 60, 60, 60, 60, 60}), DocumentSelection{50, 3, 7}, "set");
  EXPECT_EQ(portable[0].name, "d1");
  EXPECT_EQ(portable[1].name, "d5");
  EXPECT_EQ(portable[2].name, "d0");
}

// Windows: exactly `window` tokens each, never overlapping, never past a document's end, the same for
// the same seed; validation's windows (skip_windows) are never the search's.
TEST(Windows, FirstSlotsAfterTheSkip) {
  std::vector<Document> docs = {{"a", {}}, {"b", {}}};
  for (int32_t i = 0; i < 100; ++i) docs[0].tokens.push_back(i);
  for (int32_t i = 0; i < 25; ++i) docs[1].tokens.push_back(1000 + i);
  const std::vector<Document> w = select_windows(docs, 20, WindowSelection{3, 10, std::nullopt, 0});
  ASSERT_EQ(w.size(), 3u + 0u);  // b has 15 tokens after the skip: no window
  EXPECT_EQ(w[0].name, "a@10");
  EXPECT_EQ(w[1].name, "a@30");
  EXPECT_EQ(w[2].name, "a@50");
  for (const Document& d : w) ASSERT_EQ(d.tokens.size(), 20u);
  EXPECT_EQ(w[1].tokens.front(), 30);
  EXPECT_EQ(w[1].tokens.back(), 49);
  const std::vector<Document> later = select_windows(docs, 20, WindowSelection{3, 10, std::nullopt, 3});
  ASSERT_EQ(later.size(), 1u);  // slots 3 (a@70) only: slot 4 would pass the end
  EXPECT_EQ(later[0].name, "a@70");
}

TEST(Windows, SeededDrawIsDeterministicDisjointAndInside) {
  std::vector<Document> docs = {{"book", std::vector<int32_t>(1000)}};
  for (int32_t i = 0; i < 1000; ++i) docs[0].tokens[static_cast<size_t>(i)] = i;
  const WindowSelection search{5, 7, 42, 0}, validation{5, 7, 42, 5};
  const std::vector<Document> a = select_windows(docs, 64, search), b = select_windows(docs, 64, search);
  const std::vector<Document> v = select_windows(docs, 64, validation);
  ASSERT_EQ(a.size(), 5u);
  ASSERT_EQ(v.size(), 5u);
  std::set<std::string> names;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    const int32_t begin = a[i].tokens.front();
    EXPECT_EQ((begin - 7) % 64, 0) << a[i].name;  // on a slot
    EXPECT_LE(begin + 64, 1000);                   // inside the document
    if (i > 0) EXPECT_GE(begin, a[i - 1].tokens.front() + 64);  // in order, no overlap
    names.insert(a[i].name);
  }
  for (const Document& d : v) EXPECT_EQ(names.count(d.name), 0u) << "validation reuses " << d.name;
}

TEST(Documents, NoLongDocumentIsAnErrorNamingTheLongest) {
  try {
    select_documents(docs_of_lengths({10, 30, 20}), DocumentSelection{100, 5, std::nullopt}, "books/valid");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("books/valid: no document has at least 100 tokens (the longest, d1, has 30)"));
  }
}

TEST(Documents, ReadsTextBytesRawTokensAndNpyFromADirectory) {
  const auto dir = fresh_temp_dir("docs");
  std::ofstream(dir / "a.txt") << "hello";
  std::ofstream(dir / "index.json") << "{}";  // ignored: not a document extension
  const uint16_t u16[] = {1, 2, 65535};
  std::ofstream(dir / "b.u16", std::ios::binary).write(reinterpret_cast<const char*>(u16), sizeof u16);
  const int64_t rows[] = {7, 8, 9, 10, 11, 12};
  formats::write_npy((dir / "c.npy").string(), formats::DType::I64, {2, 3}, rows, sizeof rows);
  const auto docs = load_documents(DocumentSource{dir.string(), "auto", "", ""});
  ASSERT_EQ(docs.size(), 4u);
  EXPECT_EQ(docs[0].tokens, (std::vector<int32_t>{'h', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(docs[1].tokens, (std::vector<int32_t>{1, 2, 65535}));
  EXPECT_EQ(docs[2].name, "c.npy#0");
  EXPECT_EQ(docs[3].tokens, (std::vector<int32_t>{10, 11, 12}));
}

TEST(Documents, RejectsMalformedInputs) {
  const auto dir = fresh_temp_dir("baddocs");
  std::ofstream(dir / "odd.u32", std::ios::binary) << "abc";  // not a multiple of 4 bytes
  try {
    load_documents(DocumentSource{(dir / "odd.u32").string(), "auto", "", ""});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("odd.u32"));
  }
  const float f[] = {1.0f};
  formats::write_npy((dir / "f.npy").string(), formats::DType::F32, {1}, f, sizeof f);
  EXPECT_THROW(load_documents(DocumentSource{(dir / "f.npy").string(), "auto", "", ""}), std::runtime_error);
  EXPECT_THROW(load_documents(DocumentSource{(dir / "missing").string(), "auto", "", ""}), std::runtime_error);
  const auto empty = fresh_temp_dir("emptydocs");
  EXPECT_THROW(load_documents(DocumentSource{empty.string(), "auto", "", ""}), std::runtime_error);
}

}  // namespace
}  // namespace longrope
