# Reference numbers for analysis.sem (ML core, std.all, := parameters, modification indices,
# multi-group invariance, bootstrap CIs) from lavaan 0.6-14 (Debian r-cran-lavaan).
#
#   .venv/bin/python tests/reference/sem_inputs.py   # writes sem/chain.lav, sem/measurement.lav
#   Rscript tests/reference/sem_reference.R
#
# Output in tests/reference/sem/: <case>_est.csv (parameterEstimates + standardizedSolution),
# <case>_fit.csv (fitMeasures), modindices, invariance LRTs and bootstrap CIs. The tests read
# these committed files and never call R.
#
# Data: lavaan's HolzingerSwineford1939 and PoliticalDemocracy (identical to the copies in
# semopy.examples), and the compendium's synthetic survey read from data/raw/survey.csv with
# the codebook's recoding (missing codes -> NA, reverse items -> (min + max) - x), listwise.

suppressPackageStartupMessages(library(lavaan))
stopifnot(packageVersion("lavaan") == "0.6.14")

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
ref_dir <- dirname(normalizePath(script))
out_dir <- file.path(ref_dir, "sem")
root <- normalizePath(file.path(ref_dir, "..", ".."))
dir.create(out_dir, showWarnings = FALSE)

write_est <- function(fit, name) {
  pe <- parameterEstimates(fit, ci = FALSE)
  ss <- standardizedSolution(fit, type = "std.all", ci = FALSE)
  stopifnot(nrow(pe) == nrow(ss), all(pe$lhs == ss$lhs), all(pe$op == ss$op),
            all(pe$rhs == ss$rhs))
  out <- data.frame(lhs = pe$lhs, op = pe$op, rhs = pe$rhs,
                    label = if (is.null(pe$label)) "" else pe$label,
                    group = if (is.null(pe$group)) 1L else pe$group,
                    est = pe$est, se = pe$se, z = pe$z, pvalue = pe$pvalue,
                    std_all = ss$est.std, se_std = ss$se)
  if (lavInspect(fit, "ngroups") > 1) {
    lab <- lavInspect(fit, "group.label")
    out$group_label <- ifelse(out$group >= 1, lab[pmax(out$group, 1)], "")
  }
  write.csv(out, file.path(out_dir, paste0(name, "_est.csv")), row.names = FALSE)
}

write_fit <- function(fit, name) {
  fm <- fitMeasures(fit)
  write.csv(data.frame(measure = names(fm), value = as.numeric(fm)),
            file.path(out_dir, paste0(name, "_fit.csv")), row.names = FALSE)
}

write_case <- function(fit, name) {
  write_est(fit, name)
  write_fit(fit, name)
}

# --- HolzingerSwineford1939: 3-factor CFA ----------------------------------------------------
hs_model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
hs <- HolzingerSwineford1939
fit_hs <- sem(hs_model, data = hs)
write_case(fit_hs, "hs")
mi <- modindices(fit_hs, sort. = TRUE)
write.csv(mi[, c("lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all")],
          file.path(out_dir, "hs_modindices.csv"), row.names = FALSE)

# with an explicit mean structure
write_case(sem(hs_model, data = hs, meanstructure = TRUE), "hs_means")

# exogenous observed covariates (fixed.x = TRUE)
write_case(sem("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ ageyr + sex",
               data = hs), "hs_fixedx")

# --- invariance by school ----------------------------------------------------------------------
configural <- sem(hs_model, data = hs, group = "school")
metric <- sem(hs_model, data = hs, group = "school", group.equal = "loadings")
scalar <- sem(hs_model, data = hs, group = "school", group.equal = c("loadings", "intercepts"))
mi <- modindices(metric, sort. = TRUE)
write.csv(mi[, c("lhs", "op", "rhs", "group", "mi", "epc", "sepc.lv", "sepc.all")],
          file.path(out_dir, "hs_metric_modindices.csv"), row.names = FALSE)
write_case(configural, "hs_configural")
write_case(metric, "hs_metric")
write_case(scalar, "hs_scalar")
lrt <- lavTestLRT(configural, metric, scalar)
write.csv(data.frame(model = c("configural", "metric", "scalar"), chisq = lrt$Chisq,
                     df = lrt$Df, chisq_diff = lrt$`Chisq diff`, df_diff = lrt$`Df diff`,
                     p_diff = lrt$`Pr(>Chisq)`),
          file.path(out_dir, "hs_invariance.csv"), row.names = FALSE)

# --- PoliticalDemocracy: the tutorial model with a labelled indirect effect -------------------
pd_model <- "
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ a*ind60
dem65 ~ ind60 + b*dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
ind := a*b
tot := a*b + c
"
pd_model <- sub("dem65 ~ ind60", "dem65 ~ c*ind60", pd_model)
pdem <- PoliticalDemocracy
fit_pd <- sem(pd_model, data = pdem)
write_case(fit_pd, "pd")
mi <- modindices(fit_pd, sort. = TRUE)
write.csv(mi[, c("lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all")],
          file.path(out_dir, "pd_modindices.csv"), row.names = FALSE)

# a path model with two pure outcomes (auto.cov.y) and observed predictors (fixed.x)
write_case(sem("y1 ~ x1 + x2\ny5 ~ x1 + x2 + y2", data = pdem), "pd_path")

# bootstrap (percentile and lavaan's bias-corrected "bca.simple") for the PD model
set.seed(20240601)
fit_pd_boot <- sem(pd_model, data = pdem, se = "bootstrap", bootstrap = 1000)
for (type in c("perc", "bca.simple")) {
  pe <- parameterEstimates(fit_pd_boot, boot.ci.type = type, level = 0.95)
  write.csv(pe[, c("lhs", "op", "rhs", "label", "est", "se", "ci.lower", "ci.upper")],
            file.path(out_dir, paste0("pd_boot_", sub("\\.", "_", type), ".csv")),
            row.names = FALSE)
}

# --- the compendium's synthetic survey ---------------------------------------------------------
survey_file <- file.path(root, "data", "raw", "survey.csv")
codebook_file <- file.path(root, "data", "raw", "codebook.csv")
chain_file <- file.path(out_dir, "chain.lav")
if (file.exists(survey_file) && file.exists(chain_file)) {
  sv <- read.csv(survey_file, stringsAsFactors = FALSE)
  cb <- read.csv(codebook_file, stringsAsFactors = FALSE)
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
  cat("survey: ", nrow(sv), "rows,", nrow(cc), "complete\n")
  chain <- paste(readLines(chain_file), collapse = "\n")
  fit_chain <- sem(chain, data = cc)
  write_case(fit_chain, "survey_chain")
  mi <- modindices(fit_chain, sort. = TRUE)
  write.csv(head(mi[, c("lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all")], 40),
            file.path(out_dir, "survey_chain_modindices.csv"), row.names = FALSE)

  meas <- paste(readLines(file.path(out_dir, "measurement.lav")), collapse = "\n")
  conf <- sem(meas, data = cc, group = "community_type")
  metr <- sem(meas, data = cc, group = "community_type", group.equal = "loadings")
  scal <- sem(meas, data = cc, group = "community_type",
              group.equal = c("loadings", "intercepts"))
  write_case(conf, "survey_configural")
  write_case(metr, "survey_metric")
  write_case(scal, "survey_scalar")
  lrt <- lavTestLRT(conf, metr, scal)
  write.csv(data.frame(model = c("configural", "metric", "scalar"), chisq = lrt$Chisq,
                       df = lrt$Df, chisq_diff = lrt$`Chisq diff`, df_diff = lrt$`Df diff`,
                       p_diff = lrt$`Pr(>Chisq)`),
            file.path(out_dir, "survey_invariance.csv"), row.names = FALSE)

  set.seed(20240602)
  fit_chain_boot <- sem(chain, data = cc, se = "bootstrap", bootstrap = 1000)
  pe <- parameterEstimates(fit_chain_boot, boot.ci.type = "perc", level = 0.95)
  write.csv(pe[, c("lhs", "op", "rhs", "label", "est", "se", "ci.lower", "ci.upper")],
            file.path(out_dir, "survey_chain_boot_perc.csv"), row.names = FALSE)
}
cat("done\n")
