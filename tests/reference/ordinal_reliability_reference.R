#!/usr/bin/env Rscript
# Reference numbers for analysis.study.indicators.ordinal_reliability: ordinal alpha and
# ordinal omega (Zumbo, Gadermann & Zeisser 2007) = psych::alpha and psych::omega applied to
# the polychoric correlation matrix of a construct's items.
#
# Run from the repository root:  Rscript tests/reference/ordinal_reliability_reference.R
# Writes tests/reference/ordinal_reliability/:
# * survey_ordinal.csv: per construct of the shipped survey (data/raw/survey.csv, recoded as
#   analysis.io.survey.load_survey does; residents complete on the construct's items): n,
#   ordinal alpha and omega from lavaan's polychoric matrix (lavCor, two-step ML, the matrix
#   analysis.sem.polychoric estimates), and the same from psych::polychoric's matrix;
# * survey_polychoric_<construct>.csv: lavaan's polychoric matrix of each construct (so the
#   alpha/omega step can be checked on exactly the same matrix);
# * versions.json.
# The tests read these committed files and never call R.
suppressPackageStartupMessages({
  library(psych)
  library(lavaan)
  library(jsonlite)
})
out <- file.path("tests", "reference", "ordinal_reliability")
dir.create(out, showWarnings = FALSE, recursive = TRUE)

cb <- read.csv("data/raw/codebook.csv", stringsAsFactors = FALSE, encoding = "UTF-8")
cb <- cb[cb$role %in% c("element", "outcome"), ]
sv <- read.csv("data/raw/survey.csv", stringsAsFactors = FALSE)
for (i in seq_len(nrow(cb))) {
  it <- cb$item[i]
  codes <- as.numeric(strsplit(as.character(cb$missing_codes[i]), "[;,]")[[1]])
  v <- sv[[it]]
  v[v %in% codes] <- NA
  if (tolower(as.character(cb$reverse[i])) %in% c("true", "1", "yes"))
    v <- (cb$scale_min[i] + cb$scale_max[i]) - v
  sv[[it]] <- v
}

ord_rel <- function(R, n) {
  a <- psych::alpha(R, warnings = FALSE)$total$raw_alpha
  o <- suppressWarnings(suppressMessages(
    psych::omega(R, nfactors = 1, n.obs = n, plot = FALSE)))$omega.tot
  c(alpha = a, omega = o)
}

rows <- list()
for (s in unique(cb$construct)) {
  its <- cb$item[cb$construct == s]
  xs <- na.omit(sv[, its])
  R_lav <- lavaan::lavCor(xs, ordered = its, output = "cor")
  R_lav <- unclass(R_lav)[its, its]
  write.csv(data.frame(item = its, R_lav, check.names = FALSE),
            file.path(out, paste0("survey_polychoric_", s, ".csv")), row.names = FALSE)
  R_psy <- suppressWarnings(psych::polychoric(xs)$rho)
  l <- ord_rel(R_lav, nrow(xs))
  p <- ord_rel(R_psy, nrow(xs))
  rows[[s]] <- data.frame(construct = s, n = nrow(xs),
                          ordinal_alpha = l[["alpha"]], ordinal_omega = l[["omega"]],
                          psych_poly_alpha = p[["alpha"]], psych_poly_omega = p[["omega"]])
}
write.csv(do.call(rbind, rows), file.path(out, "survey_ordinal.csv"), row.names = FALSE)
writeLines(toJSON(list(R = R.version.string,
                       lavaan = as.character(packageVersion("lavaan")),
                       psych = as.character(packageVersion("psych"))), auto_unbox = TRUE),
           file.path(out, "versions.json"))
