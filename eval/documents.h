// Long documents for perplexity: text files (bytes or a SentencePiece model), pre-tokenized raw
// uint16/uint32 files and .npy arrays; and the reference rule for choosing which ones to score.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace longrope {

struct Document {
  std::string name;             // file name (or file#row for 2-D .npy)
  std::vector<int32_t> tokens;
  int64_t scored_tail = 0;      // > 0: only the window's last this many tokens are scored (a needle's answer)
  int64_t window_length = 0;    // > 0: scored as a window of this many tokens, below the evaluator's length
                                // (a search for a deployment scores several lengths); 0: the evaluator's
};

// One scored window: its name and mean NLL (what a perplexity is summed from).
struct DocumentScore {
  std::string name;
  double mean_nll = 0;              // nats per predicted token
  int64_t predictions = 0;
};

struct DocumentSource {
  std::string path;             // a file, or a directory whose matching files are read in name order
  std::string token_format = "auto";  // auto (by extension) | text | u16 | u32 | npy
  std::string tokenizer;        // for text: a tokenizer.json or GGUF (byte-level BPE, in this process) or a
                                // SentencePiece tokenizer.model (in longrope-tokenize); empty: one token per byte
  std::string tokenize_exe;     // the longrope-tokenize executable (SentencePiece runs outside this process)
  std::string tokenizer_unavailable;  // non-empty: text cannot be tokenized, and this says why
};

// True for a tokenizer.json or a GGUF file: tokenizers BpeTokenizer reads.
bool is_bpe_tokenizer(const std::string& path);

// Throws std::runtime_error naming the file when nothing can be read or a file is malformed.
std::vector<Document> load_documents(const DocumentSource& source);

struct DocumentSelection {
  int64_t min_tokens = 0;       // keep documents with at least this many tokens
  int64_t count = 5;            // then the first `count` of them ...
  std::optional<uint64_t> seed; // ... or `count` drawn at random with this seed
};

// Throws when no document is long enough, naming the source and the longest document found.
std::vector<Document> select_documents(std::vector<Document> documents, const DocumentSelection& selection,
                                       const std::string& source_name);

// Where in a document its scored windows lie. The reference scores each document's first window;
// several windows per document show a candidate more (and more typical) text at the same model size.
struct WindowSelection {
  int64_t per_document = 1;      // windows taken from each document, non-overlapping
  int64_t skip_tokens = 0;       // a document's opening tokens never scored (a book's title page)
  std::optional<uint64_t> seed;  // draw the windows among the document's slots; none: the first ones
  int64_t skip_windows = 0;      // leave out the first this many of the order (validation takes those after the search's)
};

// The windows of `window` tokens: slot j of a document starts at skip_tokens + j·window (slots never
// overlap and never pass the end). The slots in order, or shuffled with `seed` (portably: the same
// windows on every machine); then `skip_windows` of them are passed over and the next `per_document`
// taken, fewer where a document is short, in document order. Each window is a Document named
// "NAME@OFFSET" holding exactly `window` tokens.
std::vector<Document> select_windows(const std::vector<Document>& documents, int64_t window, const WindowSelection& selection);

}  // namespace longrope
