# Reference values for analysis.methods.agreement from the R package multilevel (Bliese).
#
# Run from the repository root:   Rscript tests/reference/multilevel_reference.R
# Writes tests/reference/multilevel/*.csv. The tests read these files and never call R.
#
# Data sets:
#   bh1996   multilevel's Bliese & Halverson (1996) soldiers data (7382 soldiers, 99 companies):
#            ICC(1), ICC(2) for COHES, LEAD, HRS, WBEING.
#   lq2002   multilevel's leadership-climate data (2042 soldiers, 49 companies; 5-point items):
#            ICC for the LEAD, TSIG, HOSTILE scale scores; rwg(j) for the LEAD01-11, TSIG01-03,
#            HOSTIL01-05 item sets (ranvar = 2, the uniform null for 5 options).
#   edge     a small generated data set that exercises the corners: missing answers (listwise
#            deletion in rwg.j, dropped cases in aov), a one-respondent group (rwg.j NA), a
#            group answering more variably than random (variance truncated at ranvar),
#            unequal group sizes.
#   survey   the compendium's synthetic survey (items already reverse-coded, missing as NA),
#            exported by tests/reference/multilevel/make_survey_fixture.py; ICC of each
#            construct's scale score (mean of available items) and rwg(j) of its items.

suppressPackageStartupMessages(library(multilevel))

out_dir <- file.path("tests", "reference", "multilevel")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

write_csv <- function(df, name) {
  write.csv(df, file.path(out_dir, name), row.names = FALSE, na = "")
}

icc_rows <- function(dataset, variable, y, grp) {
  fit <- aov(y ~ as.factor(grp))
  data.frame(dataset = dataset, variable = variable,
             icc1 = sprintf("%.12g", ICC1(fit)), icc2 = sprintf("%.12g", ICC2(fit)))
}

rwg_rows <- function(dataset, variable, items, grp, ranvar) {
  r <- rwg.j(items, grp, ranvar = ranvar)
  data.frame(dataset = dataset, variable = variable, group = r$grpid,
             rwg_j = ifelse(is.na(r$rwg.j), NA, sprintf("%.12g", r$rwg.j)), gsize = r$gsize)
}

icc_out <- list()
rwg_out <- list()

# --- bh1996 ---------------------------------------------------------------------------------
data(bh1996)
bh <- bh1996[, c("GRP", "COHES", "LEAD", "HRS", "WBEING")]
write_csv(bh, "bh1996.csv")
for (v in c("COHES", "LEAD", "HRS", "WBEING")) {
  icc_out[[length(icc_out) + 1]] <- icc_rows("bh1996", v, bh[[v]], bh$GRP)
}

# --- lq2002 ---------------------------------------------------------------------------------
data(lq2002)
sets <- list(LEAD = sprintf("LEAD%02d", 1:11), TSIG = sprintf("TSIG%02d", 1:3),
             HOSTILE = sprintf("HOSTIL%02d", 1:5))
lq <- lq2002[, c("COMPID", unlist(sets))]
write_csv(lq, "lq2002.csv")
for (v in names(sets)) {
  score <- rowMeans(lq[, sets[[v]]], na.rm = TRUE)
  icc_out[[length(icc_out) + 1]] <- icc_rows("lq2002", v, score, lq$COMPID)
  rwg_out[[length(rwg_out) + 1]] <- rwg_rows("lq2002", v, lq[, sets[[v]]], lq$COMPID, 2)
}

# --- edge cases -------------------------------------------------------------------------------
set.seed(20001)
sizes <- c(g01 = 12, g02 = 7, g03 = 1, g04 = 9, g05 = 15, g06 = 4, g07 = 10)
grp <- rep(names(sizes), sizes)
centre <- c(g01 = 4, g02 = 2, g03 = 3, g04 = 3.5, g05 = 3, g06 = 1.5, g07 = 4.5)
edge <- data.frame(grp = grp)
for (j in 1:4) {
  x <- round(centre[grp] + rnorm(length(grp), sd = 0.9))
  x[grp == "g05"] <- sample(c(1, 5), sum(grp == "g05"), replace = TRUE)  # polarised: var > 2
  edge[[sprintf("X%d", j)]] <- pmin(pmax(x, 1), 5)
}
miss <- cbind(sample(nrow(edge), 8, replace = TRUE), sample(2:5, 8, replace = TRUE))
edge[miss] <- NA
write_csv(edge, "edge.csv")
items <- sprintf("X%d", 1:4)
icc_out[[length(icc_out) + 1]] <- icc_rows("edge", "X1", edge$X1, edge$grp)
icc_out[[length(icc_out) + 1]] <- icc_rows("edge", "scale", rowMeans(edge[, items], na.rm = TRUE), edge$grp)
rwg_out[[length(rwg_out) + 1]] <- rwg_rows("edge", "scale", edge[, items], edge$grp, 2)
rwg_out[[length(rwg_out) + 1]] <- rwg_rows("edge", "scale_7pt", edge[, items], edge$grp, (7^2 - 1) / 12)

# --- the compendium's survey ------------------------------------------------------------------
survey_file <- file.path(out_dir, "survey_items.csv")
if (file.exists(survey_file)) {
  sv <- read.csv(survey_file, stringsAsFactors = FALSE)
  constructs <- c("MS", "CS", "OM", "RA", "CC", "PV")
  for (v in constructs) {
    cols <- grep(sprintf("^%s[0-9]+$", v), names(sv), value = TRUE)
    score <- rowMeans(sv[, cols], na.rm = TRUE)
    score[is.nan(score)] <- NA
    icc_out[[length(icc_out) + 1]] <- icc_rows("survey", v, score, sv$community_id)
    rwg_out[[length(rwg_out) + 1]] <- rwg_rows("survey", v, sv[, cols], sv$community_id, 2)
  }
}

write_csv(do.call(rbind, icc_out), "icc.csv")
write_csv(do.call(rbind, rwg_out), "rwg_j.csv")
