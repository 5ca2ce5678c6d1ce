# Reference numbers for analysis.sem's ordinal SEM (polychorics, WLSMV) -- lavaan 0.6-14.
#
# Run from the repository root (after tests/reference/sem_robust_inputs.py, which writes
# the recoded survey and the chain model):
#     Rscript tests/reference/sem_ordinal_reference.R
# Writes tests/reference/sem_ordinal/: the data it fits (hs_cut.csv, bfi.csv) and per case
# <case>_est.csv (parameterEstimates with std.all), <case>_fit.json (all fitMeasures) and,
# for some cases, <case>_extra.json (sample statistics: thresholds, polychorics, Gamma).
# The tests read these committed files and never call R.
#
# Data:
# * hs_cut.csv: HolzingerSwineford1939 x1..x9 cut at sample quantiles into 3 (x1-x3),
#   4 (x4-x6) and 5 (x7-x9) ordered categories, with `school`; hs_cut_na.csv is the same
#   with a seeded ~8% MCAR mask (missing = "pairwise" case).
# * bfi.csv: psych::bfi's 25 personality items, rows complete on them (2,436 of 2,800).
# * sem_robust/survey_recoded.csv + sem_robust/chain.lav: the compendium's survey.
suppressMessages(library(lavaan))
suppressMessages(library(psych))
suppressMessages(library(jsonlite))

out_dir <- file.path("tests", "reference", "sem_ordinal")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

write_case <- function(name, fit, extra = FALSE) {
  pe <- parameterEstimates(fit, ci = FALSE, standardized = TRUE, remove.nonfree = FALSE,
                           remove.eq = FALSE, remove.ineq = FALSE, remove.def = FALSE)
  ss <- standardizedSolution(fit, remove.eq = FALSE, remove.ineq = FALSE,
                             remove.def = FALSE)
  keys <- intersect(c("lhs", "op", "rhs", "group"), names(ss))
  ss <- ss[, c(keys, "se")]
  names(ss)[names(ss) == "se"] <- "se.std"
  pe$.row <- seq_len(nrow(pe))
  pe <- merge(pe, ss, by = keys, all.x = TRUE, sort = FALSE)
  pe <- pe[order(pe$.row), ]
  cols <- intersect(c("lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue",
                      "std.all", "se.std"), names(pe))
  write.csv(pe[, cols], file.path(out_dir, paste0(name, "_est.csv")), row.names = FALSE)
  fm <- fitMeasures(fit)
  fit_list <- as.list(setNames(as.numeric(fm), names(fm)))
  fit_list$converged <- lavInspect(fit, "converged")
  fit_list$nobs <- as.numeric(lavInspect(fit, "nobs"))
  tst <- lavInspect(fit, "test")
  for (tt in tst) if (!is.null(tt$shift.parameter)) {
    fit_list$chisq.shift.parameter <- sum(tt$shift.parameter)
    fit_list$test.trace.UGamma <- tt$trace.UGamma
  }
  writeLines(toJSON(fit_list, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"),
             file.path(out_dir, paste0(name, "_fit.json")))
  if (extra) {
    ss <- lavInspect(fit, "sampstat")
    if (!is.null(ss$cov)) ss <- list(ss)
    gam <- lavInspect(fit, "gamma")
    if (is.matrix(gam)) gam <- list(gam)
    wv <- lavInspect(fit, "wls.v")
    if (is.matrix(wv)) wv <- list(wv)
    ex <- lapply(seq_along(ss), function(g) list(
      ov = colnames(ss[[g]]$cov),
      th = unname(as.numeric(ss[[g]]$th)),
      th_names = names(ss[[g]]$th),
      cor = unname(as.matrix(ss[[g]]$cov)),
      gamma = unname(as.matrix(gam[[g]])),
      wls_v_diag = unname(diag(as.matrix(wv[[g]])))))
    writeLines(toJSON(ex, digits = NA, auto_unbox = TRUE),
               file.path(out_dir, paste0(name, "_extra.json")))
  }
  invisible(fit)
}

# ---- HolzingerSwineford1939 cut into ordered categories --------------------------------
hs <- HolzingerSwineford1939
cutq <- function(x, k) {
  br <- unique(quantile(x, probs = seq(0, 1, length.out = k + 1), type = 7))
  as.integer(cut(x, breaks = br, include.lowest = TRUE))
}
hsc <- data.frame(x1 = cutq(hs$x1, 3), x2 = cutq(hs$x2, 3), x3 = cutq(hs$x3, 3),
                  x4 = cutq(hs$x4, 4), x5 = cutq(hs$x5, 4), x6 = cutq(hs$x6, 4),
                  x7 = cutq(hs$x7, 5), x8 = cutq(hs$x8, 5), x9 = cutq(hs$x9, 5),
                  school = as.character(hs$school))
write.csv(hsc, file.path(out_dir, "hs_cut.csv"), row.names = FALSE)
set.seed(20261202)
hsn <- hsc
for (v in paste0("x", 1:9)) hsn[runif(nrow(hsn)) < 0.08, v] <- NA
write.csv(hsn, file.path(out_dir, "hs_cut_na.csv"), row.names = FALSE, na = "")
items <- paste0("x", 1:9)

hs_model <- "visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9"
hs_model_def <- "visual =~ x1 + a*x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9
speed ~ b*visual + textual
ab := a*b"
hs_model_orth <- "visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9
visual ~~ 0*speed
textual ~~ 0*speed"

f_hs <- cfa(hs_model, hsc, ordered = items)
write_case("hs_wlsmv", f_hs, extra = TRUE)
write_case("hs_wlsmv_theta", cfa(hs_model, hsc, ordered = items, parameterization = "theta"))
write_case("hs_dwls", cfa(hs_model, hsc, ordered = items, estimator = "DWLS"))
write_case("hs_wls", cfa(hs_model, hsc, ordered = items, estimator = "WLS"))
write_case("hs_wlsmv_def", sem(hs_model_def, hsc, ordered = items))
f_orth <- cfa(hs_model_orth, hsc, ordered = items)
write_case("hs_wlsmv_orth", f_orth)
lrt <- lavTestLRT(f_orth, f_hs)
write.csv(data.frame(df = lrt$Df, chisq = lrt$Chisq, chisq_diff = lrt[["Chisq diff"]],
                     df_diff = lrt[["Df diff"]], pvalue = lrt[["Pr(>Chisq)"]]),
          file.path(out_dir, "hs_lrt_orth.csv"), row.names = FALSE)
f_mg <- cfa(hs_model, hsc, ordered = items, group = "school",
            group.equal = c("loadings", "thresholds"))
write_case("hs_wlsmv_mg", f_mg, extra = TRUE)
write.csv(parTable(f_mg), file.path(out_dir, "hs_wlsmv_mg_partable.csv"), row.names = FALSE)
write_case("hs_wlsmv_mg_theta", cfa(hs_model, hsc, ordered = items, group = "school",
                                    group.equal = c("loadings", "thresholds"),
                                    parameterization = "theta"))
write_case("hs_wlsmv_mg_loadings", cfa(hs_model, hsc, ordered = items, group = "school",
                                       group.equal = "loadings"))
write_case("hs_wlsmv_mg_thresholds", cfa(hs_model, hsc, ordered = items, group = "school",
                                         group.equal = "thresholds"))
f_conf <- cfa(hs_model, hsc, ordered = items, group = "school")
write_case("hs_wlsmv_mg_config", f_conf)
lrt <- lavTestLRT(f_mg, f_conf)
write.csv(data.frame(df = lrt$Df, chisq = lrt$Chisq, chisq_diff = lrt[["Chisq diff"]],
                     df_diff = lrt[["Df diff"]], pvalue = lrt[["Pr(>Chisq)"]]),
          file.path(out_dir, "hs_lrt_mg.csv"), row.names = FALSE)
write_case("hs_wlsmv_pairwise", cfa(hs_model, hsn, ordered = items, missing = "pairwise"),
           extra = TRUE)

# mixed: x1-x6 ordered (cut), x7-x9 continuous (HolzingerSwineford1939's values)
hsm <- hsc
hsm$x7 <- hs$x7; hsm$x8 <- hs$x8; hsm$x9 <- hs$x9
write.csv(hsm, file.path(out_dir, "hs_mixed.csv"), row.names = FALSE)
write_case("hs_wlsmv_mixed", cfa(hs_model, hsm, ordered = paste0("x", 1:6)), extra = TRUE)
write_case("hs_wlsmv_mixed_theta", cfa(hs_model, hsm, ordered = paste0("x", 1:6),
                                       parameterization = "theta"))

# ---- the compendium's survey, chain model ----------------------------------------------
sv <- read.csv(file.path("tests", "reference", "sem_robust", "survey_recoded.csv"))
chain <- paste(readLines(file.path("tests", "reference", "sem_robust", "chain.lav")),
               collapse = "\n")
write_case("survey_wlsmv", sem(chain, sv, ordered = TRUE))

# ---- psych::bfi, five-factor CFA --------------------------------------------------------
bfi_items <- c(paste0("A", 1:5), paste0("C", 1:5), paste0("E", 1:5), paste0("N", 1:5),
               paste0("O", 1:5))
b <- psych::bfi[, bfi_items]
b <- b[complete.cases(b), ]
write.csv(b, file.path(out_dir, "bfi.csv"), row.names = FALSE)
bfi_model <- "agree =~ A1 + A2 + A3 + A4 + A5
consc =~ C1 + C2 + C3 + C4 + C5
extra =~ E1 + E2 + E3 + E4 + E5
neuro =~ N1 + N2 + N3 + N4 + N5
open =~ O1 + O2 + O3 + O4 + O5"
writeLines(bfi_model, file.path(out_dir, "bfi.lav"))
write_case("bfi_wlsmv", cfa(bfi_model, b, ordered = TRUE), extra = TRUE)
