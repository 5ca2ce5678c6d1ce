# Reference numbers for analysis.study.structural from lavaan 0.6-14 (Debian r-cran-lavaan):
# H1 (chain) vs H0 (parallel) chi-square difference tests under ML, MLR (Satorra-Bentler
# 2001 scaled difference) and FIML; standardised effects with delta-method SEs; latent means
# of the scalar model; univariate score tests for releasing equality constraints
# (lavTestScore) and a partial-invariance fit (group.partial).
#
# The model text comes from Python so that R fits exactly the models the tests fit:
#
#   .venv/bin/python -c "from analysis.io.codebook import load_codebook; from analysis import models; \
#     cb = load_codebook(); d = 'tests/reference/structural/'; \
#     open(d + 'h1.lav', 'w').write(models.chain_model(cb)); \
#     open(d + 'h0.lav', 'w').write(models.parallel_model(cb)); \
#     open(d + 'measurement.lav', 'w').write(models.measurement_model(cb) + '\n')"
#   Rscript tests/reference/structural_reference.R
#
# Data: data/raw/survey.csv recoded with the codebook (missing codes -> NA, reverse items ->
# (min + max) - x), as analysis.io.survey.load_survey does; listwise for ML/MLR, all rows with
# at least one answer for FIML. The tests read the CSV files written here and never call R.

suppressPackageStartupMessages(library(lavaan))
stopifnot(packageVersion("lavaan") == "0.6.14")

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
ref_dir <- dirname(normalizePath(script))
out_dir <- file.path(ref_dir, "structural")
root <- normalizePath(file.path(ref_dir, "..", ".."))

read_model <- function(name) paste(readLines(file.path(out_dir, name)), collapse = "\n")
h1 <- read_model("h1.lav")
h0 <- read_model("h0.lav")
meas <- read_model("measurement.lav")

sv <- read.csv(file.path(root, "data", "raw", "survey.csv"), stringsAsFactors = FALSE)
cb <- read.csv(file.path(root, "data", "raw", "codebook.csv"), stringsAsFactors = FALSE)
for (i in seq_len(nrow(cb))) {
  item <- cb$item[i]
  codes <- as.numeric(strsplit(as.character(cb$missing_codes[i]), "[;|, ]+")[[1]])
  x <- sv[[item]]
  x[x %in% codes] <- NA
  if (toupper(as.character(cb$reverse[i])) == "TRUE") x <- (cb$scale_min[i] + cb$scale_max[i]) - x
  sv[[item]] <- x
}
items <- cb$item
cc <- sv[complete.cases(sv[, items]), ]
cat("survey:", nrow(sv), "rows,", nrow(cc), "complete\n")

measures <- c("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower",
              "rmsea.ci.upper", "srmr", "aic", "bic")
robust <- c("chisq.scaled", "chisq.scaling.factor", "cfi.robust", "rmsea.robust")

fit_rows <- function(fits, spec) {
  do.call(rbind, lapply(names(fits), function(m) {
    fm <- fitMeasures(fits[[m]])
    keep <- c(measures, intersect(robust, names(fm)))
    data.frame(spec = spec, model = m, measure = keep, value = as.numeric(fm[keep]))
  }))
}

lrt_row <- function(r, g, spec, method) {
  t <- if (method == "LRT") lavTestLRT(r, g) else lavTestLRT(r, g, method = method)
  data.frame(spec = spec, chisq_diff = t$`Chisq diff`[2], df_diff = t$`Df diff`[2],
             p_diff = t$`Pr(>Chisq)`[2])
}

effect_rows <- function(fit, spec) {
  pe <- parameterEstimates(fit, ci = FALSE)
  ss <- standardizedSolution(fit, type = "std.all", ci = FALSE)
  stopifnot(all(pe$lhs == ss$lhs), all(pe$op == ss$op), all(pe$rhs == ss$rhs))
  keep <- pe$op %in% c("~", ":=")
  data.frame(spec = spec, lhs = pe$lhs[keep], op = pe$op[keep], rhs = pe$rhs[keep],
             label = pe$label[keep], est = pe$est[keep], se = pe$se[keep],
             std_all = ss$est.std[keep], se_std = ss$se[keep])
}

specs <- list(
  ML = list(data = cc, estimator = "ML", missing = "listwise", method = "LRT"),
  MLR = list(data = cc, estimator = "MLR", missing = "listwise", method = "satorra.bentler.2001"),
  FIML = list(data = sv, estimator = "ML", missing = "ml", method = "LRT"),
  `FIML-MLR` = list(data = sv, estimator = "MLR", missing = "ml",
                    method = "satorra.bentler.2001")
)
fits_out <- list(); lrt_out <- list(); eff_out <- list()
for (s in names(specs)) {
  sp <- specs[[s]]
  f1 <- sem(h1, data = sp$data, estimator = sp$estimator, missing = sp$missing)
  f0 <- sem(h0, data = sp$data, estimator = sp$estimator, missing = sp$missing)
  fits_out[[s]] <- fit_rows(list(H1 = f1, H0 = f0), s)
  lrt_out[[s]] <- lrt_row(f1, f0, s, sp$method)
  eff_out[[s]] <- effect_rows(f1, s)
}
write.csv(do.call(rbind, fits_out), file.path(out_dir, "compare_fit.csv"), row.names = FALSE)
write.csv(do.call(rbind, lrt_out), file.path(out_dir, "compare_lrt.csv"), row.names = FALSE)
write.csv(do.call(rbind, eff_out), file.path(out_dir, "effects.csv"), row.names = FALSE)

# --- modification indices of H1 under MLR and FIML (does analysis.sem handle them?) ---------
for (s in c("MLR", "FIML")) {
  sp <- specs[[s]]
  f1 <- sem(h1, data = sp$data, estimator = sp$estimator, missing = sp$missing)
  mi <- modindices(f1, sort. = TRUE)
  write.csv(head(mi[, c("lhs", "op", "rhs", "mi", "epc", "sepc.all")], 30),
            file.path(out_dir, paste0("modindices_", tolower(s), ".csv")), row.names = FALSE)
}

# --- invariance follow-up: latent means, score tests, partial invariance --------------------
scal <- sem(meas, data = cc, group = "community_type",
            group.equal = c("loadings", "intercepts"))
glab <- lavInspect(scal, "group.label")
pe <- parameterEstimates(scal, ci = FALSE)
lv <- lavNames(scal, "lv")
lm <- pe[pe$op == "~1" & pe$lhs %in% lv, ]
write.csv(data.frame(construct = lm$lhs, group = glab[lm$group], est = lm$est, se = lm$se),
          file.path(out_dir, "latent_means.csv"), row.names = FALSE)

sc <- lavTestScore(scal, epc = TRUE)
pt <- parTable(scal)
uni <- sc$uni
# each constraint reads .pA. == .pB.; B is the copy in the later group
rel <- do.call(rbind, lapply(seq_len(nrow(uni)), function(k) {
  b <- pt[pt$plabel == uni$rhs[k], ]
  data.frame(lhs = b$lhs, op = b$op, rhs = b$rhs, group = glab[b$group], mi = uni$X2[k])
}))
rel <- rel[rel$op %in% c("=~", "~1"), ]
write.csv(rel, file.path(out_dir, "release_tests.csv"), row.names = FALSE)

part <- sem(meas, data = cc, group = "community_type",
            group.equal = c("loadings", "intercepts"), group.partial = c("PV2~1", "CC =~ CC4"))
fm <- fitMeasures(part)
write.csv(data.frame(measure = c("chisq", "df", "npar"), value = as.numeric(fm[c("chisq", "df", "npar")])),
          file.path(out_dir, "partial_fit.csv"), row.names = FALSE)

# --- partial invariance on HolzingerSwineford1939 by school (freeing the intercepts that
# analysis.study.structural.partial_invariance releases, in its order) --------------------------------
hs_model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
hs_scal <- sem(hs_model, data = HolzingerSwineford1939, group = "school",
               group.equal = c("loadings", "intercepts"))
hs_uni <- lavTestScore(hs_scal)$uni
hs_pt <- parTable(hs_scal)
hs_rel <- do.call(rbind, lapply(seq_len(nrow(hs_uni)), function(k) {
  b <- hs_pt[hs_pt$plabel == hs_uni$rhs[k], ]
  data.frame(lhs = b$lhs, op = b$op, rhs = b$rhs, mi = hs_uni$X2[k])
}))
write.csv(hs_rel, file.path(out_dir, "hs_release_tests.csv"), row.names = FALSE)
hs_steps <- list(c("x3~1"), c("x3~1", "x7~1"))
write.csv(do.call(rbind, lapply(hs_steps, function(p) {
  f <- sem(hs_model, data = HolzingerSwineford1939, group = "school",
           group.equal = c("loadings", "intercepts"), group.partial = p)
  data.frame(freed = paste(p, collapse = ";"), chisq = fitMeasures(f, "chisq"),
             df = fitMeasures(f, "df"))
})), file.path(out_dir, "hs_partial.csv"), row.names = FALSE)
cat("done\n")
