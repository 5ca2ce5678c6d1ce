# Reference numbers for analysis.study.history's Cohen's kappa (tests/test_history.py reads the output;
# the tests never call R).
#
# Run from the repository root after the coded corpus exists (make reproduce writes it):
#   Rscript tests/reference/kappa_reference.R
# Writes tests/reference/history/{kappa_psych.csv, kappa_delta.csv, corpus_tables.csv}.
#
# 1. psych::cohen.kappa (psych 2.2.9, Debian r-cran-psych): kappa, its variance (Fleiss, Cohen &
#    Everitt 1969) and weighted kappa, on
#      - cohen1968: the proportion table of Cohen (1968), n = 200, with Cohen's disagreement
#        weights (psych's help example; Cohen reports kappa .492 and weighted kappa .348);
#      - fcE1969: the count table and similarity weights from psych's help, attributed there to
#        Fleiss, Cohen & Everitt (1969), n = 200;
#      - corpus_all / corpus_vs: hand-assigned vs dictionary-coded stage of the policy corpus
#        (all 31 documents; verified and secondary-source documents only), six categories;
#      - corpus_classified: documents the coder put into a stage, four ordered stages,
#        psych's default quadratic weights.
#    psych's var.weighted is NOT used: it changes when the same weights are rescaled (for the
#    Cohen table, 1 - w/9 and 1 - w/6 give the same weighted kappa .348 but variances .0347 and
#    .0143), so it cannot be the invariant Fleiss-Cohen-Everitt variance.
# 2. For the weighted-kappa standard error, an independent route: the multinomial delta method,
#    var = g' (diag(p) - p p') g / n with g the numerical gradient (numDeriv) of kappa_w(p).
#    Fleiss, Cohen & Everitt's closed form is this delta-method variance.

suppressPackageStartupMessages({
  library(psych)
  library(numDeriv)
})

out_dir <- file.path("tests", "reference", "history")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

stages <- c("management", "service", "construction", "governance")
cats <- c(stages, "unclassified", "tie")

corpus <- read.csv(file.path("data", "processed", "coded-policy-corpus.csv"),
                   stringsAsFactors = FALSE, encoding = "UTF-8")

cohen <- matrix(c(0.44, 0.07, 0.09,
                  0.05, 0.20, 0.05,
                  0.01, 0.03, 0.06), ncol = 3, byrow = TRUE)
cohen_weights <- matrix(c(0, 1, 3,
                          1, 0, 6,
                          3, 6, 0), ncol = 3)
fleiss <- matrix(c(106, 10, 4,
                   22, 28, 10,
                   2, 12, 6), ncol = 3, byrow = TRUE)
fleiss_weights <- matrix(c(1.0000, 0.0000, 0.4444,
                           0.0000, 1.0000, 0.6667,
                           0.4444, 0.6667, 1.0000), ncol = 3)

psych_row <- function(case, ck, n) {
  data.frame(case = case, n = n, kappa = ck$kappa, var_kappa = ck$var.kappa,
             lower = ck$confid[1, "lower"], upper = ck$confid[1, "upper"],
             weighted_kappa = ck$weighted.kappa)
}

as_codes <- function(d) {
  data.frame(r1 = match(d$stage_hand, cats), r2 = match(d$stage_coded, cats))
}

vs <- corpus[corpus$status %in% c("V", "S"), ]
classified <- corpus[corpus$stage_coded %in% stages, ]
cls_codes <- data.frame(r1 = match(classified$stage_hand, stages),
                        r2 = match(classified$stage_coded, stages))

psych_tab <- rbind(
  psych_row("cohen1968", cohen.kappa(cohen, cohen_weights, n.obs = 200), 200),
  psych_row("fce1969", cohen.kappa(fleiss, fleiss_weights, n.obs = 200), 200),
  psych_row("corpus_all", cohen.kappa(as_codes(corpus), levels = seq_along(cats)), nrow(corpus)),
  psych_row("corpus_vs", cohen.kappa(as_codes(vs), levels = seq_along(cats)), nrow(vs)),
  psych_row("corpus_classified", cohen.kappa(cls_codes, levels = 1:4), nrow(classified))
)

# Weighted kappa and its delta-method variance; w are agreement weights (1 on the diagonal).
kappa_w <- function(pvec, w) {
  k <- nrow(w)
  p <- matrix(pvec, k, k)
  p <- p / sum(p)
  po <- sum(w * p)
  pe <- sum(w * outer(rowSums(p), colSums(p)))
  (po - pe) / (1 - pe)
}
delta_row <- function(case, table, w, n) {
  p <- as.vector(table / sum(table))
  g <- grad(kappa_w, p, w = w)
  v <- (sum(p * g^2) - sum(p * g)^2) / n
  data.frame(case = case, n = n, weighted_kappa = kappa_w(p, w), var_weighted = v)
}
quad <- function(k) 1 - outer(1:k, 1:k, "-")^2 / (k - 1)^2
lin <- function(k) 1 - abs(outer(1:k, 1:k, "-")) / (k - 1)
cls_table <- table(factor(cls_codes$r1, levels = 1:4), factor(cls_codes$r2, levels = 1:4))

delta_tab <- rbind(
  delta_row("cohen1968_unweighted", cohen, diag(3), 200),
  delta_row("cohen1968_cohen_weights", cohen, 1 - cohen_weights / 6, 200),
  delta_row("cohen1968_quadratic", cohen, quad(3), 200),
  delta_row("fce1969", fleiss, fleiss_weights, 200),
  delta_row("corpus_classified_quadratic", unclass(cls_table), quad(4), nrow(classified)),
  delta_row("corpus_classified_linear", unclass(cls_table), lin(4), nrow(classified))
)

# The confusion tables R saw, so the tests can tell whether the coding has changed since.
tab_rows <- function(case, d) {
  t <- table(factor(d$stage_hand, levels = cats), factor(d$stage_coded, levels = cats))
  data.frame(case = case, reference = rep(cats, times = length(cats)),
             coded = rep(cats, each = length(cats)), count = as.vector(t))
}
tables_out <- rbind(tab_rows("corpus_all", corpus), tab_rows("corpus_vs", vs))

fmt <- function(df) {
  for (j in seq_along(df)) if (is.double(df[[j]])) df[[j]] <- trimws(formatC(df[[j]], digits = 12,
                                                                               format = "g"))
  df
}
write.csv(fmt(psych_tab), file.path(out_dir, "kappa_psych.csv"), row.names = FALSE,
          quote = FALSE)
write.csv(fmt(delta_tab), file.path(out_dir, "kappa_delta.csv"), row.names = FALSE,
          quote = FALSE)
write.csv(tables_out, file.path(out_dir, "corpus_tables.csv"), row.names = FALSE, quote = FALSE)
cat("psych", as.character(packageVersion("psych")), "numDeriv",
    as.character(packageVersion("numDeriv")), "\n")
