// Resolving a factor table into the values the runtimes store.
#include "export/export_values.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "rope/rope_scaling.h"
#include "util/errors.h"

namespace longrope {

namespace {

std::runtime_error table_error(const std::string& source, const std::string& field, const std::string& what) {
  return std::runtime_error(fmt::format("{}: {}: {}", source, field, what));
}

}  // namespace

std::string verdict_warning(const FactorTable& table, const std::string& table_source) {
  const nlohmann::json verdict = table.details.value("verdict", nlohmann::json::object());
  if (verdict.value("recommend", std::string("longrope")) == "longrope") return "";
  return fmt::format("WARNING: {}: on its {} windows this table did not beat {} beyond the interval; the search recommends {} "
                     "instead", table_source, verdict.value("set", std::string("search")),
                     verdict.value("best_baseline", std::string("?")), verdict.value("recommend", std::string("?")));
}

TableLengths resolve_table_lengths(const FactorTable& table, const ExportRequest& request, int64_t model_original_length,
                                   const std::string& table_source) {
  const auto pick = [&](int64_t from_table, int64_t from_request, const char* field) -> int64_t {
    if (from_table > 0 && from_request > 0 && from_table != from_request)
      throw table_error(table_source, field, fmt::format("the table says {}, the request {}", from_table, from_request));
    return from_table > 0 ? from_table : from_request;
  };
  TableLengths v;
  v.original_length = pick(table.original_length, request.original_length, "original_length");
  if (v.original_length <= 0) v.original_length = model_original_length;
  if (v.original_length <= 0)
    throw InvalidSetting("original_length", fmt::format("{}: unknown (the table and the model file lack it)", table_source));
  if (model_original_length > 0 && model_original_length != v.original_length)
    v.warnings.push_back(fmt::format("warning: the table is for original length {}, the model file says {}",
                                     v.original_length, model_original_length));

  v.target_length = pick(table.target_length, request.target_length, "target_length");
  if (v.target_length <= 0 && table.scale > 0)
    v.target_length = static_cast<int64_t>(std::llround(table.scale * static_cast<double>(v.original_length)));
  if (v.target_length <= 0) throw InvalidSetting("target_length", fmt::format("{}: unknown (the table lacks it)", table_source));
  if (v.target_length <= v.original_length)
    throw table_error(table_source, "target_length", fmt::format("{} is not beyond the original length {}: the long factors would "
                                                                 "never apply", v.target_length, v.original_length));
  v.scale = table.scale > 0 ? table.scale : static_cast<double>(v.target_length) / static_cast<double>(v.original_length);
  return v;
}

ExportValues resolve_export_values(const FactorTable& table, const ExportRequest& request, int64_t model_original_length,
                                   const std::string& table_source) {
  ExportValues v;
  const std::string verdict = verdict_warning(table, table_source);
  if (!verdict.empty()) v.warnings.push_back(verdict);
  if (table.start_tokens > 0) {
    if (!request.drop_start_tokens)
      throw table_error(table_source, "start_tokens",
                        fmt::format("n̂ = {} cannot be exported: transformers, vLLM and llama.cpp apply λ at every position; "
                                    "search with --search-start-tokens false, or export λ without n̂ (--drop-start-tokens)",
                                    table.start_tokens));
    v.warnings.push_back(fmt::format(
        "WARNING: dropping n̂ = {}: the exported model rescales the first {} positions too, so it is NOT the searched "
        "model and its perplexity will differ from the table's",
        table.start_tokens, table.start_tokens));
  }
  TableLengths lengths = resolve_table_lengths(table, request, model_original_length, table_source);
  v.warnings.insert(v.warnings.end(), lengths.warnings.begin(), lengths.warnings.end());
  v.original_length = lengths.original_length;
  v.target_length = lengths.target_length;
  v.scale = lengths.scale;
  v.attention_factor = table.attention_factor ? *table.attention_factor : longrope_attention_factor(v.scale, v.original_length);
  v.long_factor = table.lambda;
  v.short_factor = table.short_lambda.empty() ? std::vector<double>(table.lambda.size(), 1.0) : table.short_lambda;
  if (v.short_factor.size() != v.long_factor.size())
    throw table_error(table_source, "short_lambda", fmt::format("has {} values, lambda has {}", v.short_factor.size(), v.long_factor.size()));
  return v;
}

}  // namespace longrope
