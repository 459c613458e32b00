// Python distribution metadata that several implementations install into
// one shared directory (on Debian every interpreter imports from
// /usr/lib/python3/dist-packages). Their `NAME.dist-info/RECORD` and `WHEEL`
// differ by design: each RECORD lists that implementation's own compiled
// extensions, each WHEEL names its own tag. Preferring one would leave the
// other's files unlisted, so the merger writes one of each instead: RECORD
// as the union of every image's entries, each hashed from the file the
// merge installs; WHEEL as the best-ranked image's with every image's Tag
// lines. Any other difference in a WHEEL is a notice.
#pragma once

#include <string>
#include <vector>

#include "merge/checks.h"
#include "merge/image_scan.h"
#include "merge/plan.h"

namespace nsbuild::merge {

// Takes every RECORD and WHEEL that two or more images hold at the same
// path out of `per_image` and appends the merged file to `generated`.
// `order` ranks the images as ResolveImplementations does.
void MergeDistInfo(std::vector<std::vector<PlanItem>>* per_image,
                   const std::vector<ScannedImage>& images, const std::vector<std::string>& order,
                   std::vector<PlanItem>* generated, std::vector<Finding>* notices);

// The pieces, for tests. One RECORD row's fields (CSV, as the wheel spec
// says); the RECORD hash form of a hex sha256 ("sha256=" + urlsafe base64,
// unpadded); the merged WHEEL text and what in it could not be merged.
std::vector<std::string> RecordFields(const std::string& line);
std::string RecordHash(const std::string& sha256_hex);
std::string MergeWheel(const std::vector<std::string>& ranked_texts, std::string* odd);

}  // namespace nsbuild::merge
