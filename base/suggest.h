// "Did you mean ...?": the nearest known name to a misspelt one, for every
// place a user types a name nsbuild knows (subcommands, options, recipe and
// policy keys). Edit distance with transpositions, so `verison` finds
// `version` and `biuld` finds `build`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace nsbuild::base {

// Optimal-string-alignment distance: insertions, deletions, substitutions
// and swaps of two neighbours each cost 1.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is close enough to be a typo (at
// most a third of the word's length, at least 1, apart), else "". Ties go
// to the first candidate.
std::string Nearest(std::string_view word, const std::vector<std::string>& candidates);

// " (did you mean 'X'?)" for Nearest's answer, or "" when there is none.
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace nsbuild::base
