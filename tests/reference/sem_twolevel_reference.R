# Reference numbers for analysis.sem's two-level SEM (lavaan 0.6-14).
#
# Run from the repository root:  Rscript tests/reference/sem_twolevel_reference.R
# (after .venv/bin/python tests/reference/sem_twolevel_inputs.py).
# Writes tests/reference/sem_twolevel/<case>_{est.csv,fit.json,h1.json}; the tests read
# these committed files and never call R.
#
# Cases: lavaan's Demo.twolevel with the model of lavaan's documentation (exported to
# demo_twolevel.csv here), the compendium's survey (survey_twolevel.csv; chain model of
# chain.lav at level 1, one factor at level 2), and a generated two-level survey
# (generated.csv, generated.lav: 72 communities, loadings equal across levels by labels).
# Each by ML and MLR. Two-level FIML (missing = "ml"): Demo.twolevel and the generated
# survey with about 10% of the indicators missing at random (demo_fiml.csv,
# generated_fiml.csv, written here), by ML.
# Modification indices of the ML fits of Demo.twolevel and the generated survey
# (<case>_ml_modindices.csv). Sections run alone when named:
#   Rscript tests/reference/sem_twolevel_reference.R [complete] [fiml] [modindices]
suppressMessages(library(lavaan))
suppressMessages(library(jsonlite))

out_dir <- file.path("tests", "reference", "sem_twolevel")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

fit_names <- c("npar", "ntotal", "chisq", "df", "pvalue", "baseline.chisq",
               "baseline.df", "baseline.pvalue", "cfi", "tli", "rmsea",
               "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue", "srmr",
               "srmr_within", "srmr_between", "logl", "unrestricted.logl", "aic",
               "bic", "chisq.scaled", "df.scaled", "pvalue.scaled",
               "chisq.scaling.factor", "baseline.chisq.scaled",
               "baseline.chisq.scaling.factor", "cfi.robust", "tli.robust",
               "rmsea.robust", "rmsea.ci.lower.robust", "rmsea.ci.upper.robust",
               "cfi.scaled", "tli.scaled", "rmsea.scaled")

mat <- function(x) unname(as.matrix(x))

write_case <- function(name, fit) {
  pe <- parameterEstimates(fit, ci = FALSE, zstat = FALSE, pvalue = FALSE,
                           remove.nonfree = FALSE, remove.def = FALSE,
                           standardized = TRUE)
  cols <- intersect(c("lhs", "op", "rhs", "level", "label", "est", "se", "std.all"),
                    names(pe))
  write.csv(pe[, cols], file.path(out_dir, paste0(name, "_est.csv")), row.names = FALSE)
  fm <- fitMeasures(fit)
  keep <- intersect(fit_names, names(fm))
  fit_list <- as.list(setNames(as.numeric(fm[keep]), keep))
  fit_list$converged <- lavInspect(fit, "converged")
  fit_list$nclusters <- lavInspect(fit, "nclusters")
  writeLines(toJSON(fit_list, digits = NA, auto_unbox = TRUE, pretty = TRUE),
             file.path(out_dir, paste0(name, "_fit.json")))
  h1 <- lavInspect(fit, "h1")
  imp <- lavInspect(fit, "implied")
  extra <- list(
    within_names = rownames(h1[[1]]$cov), between_names = rownames(h1[[2]]$cov),
    h1_within_cov = mat(h1[[1]]$cov), h1_within_mean = unname(h1[[1]]$mean),
    h1_between_cov = mat(h1[[2]]$cov), h1_between_mean = unname(h1[[2]]$mean),
    implied_within_cov = mat(imp[[1]]$cov), implied_within_mean = unname(imp[[1]]$mean),
    implied_between_cov = mat(imp[[2]]$cov), implied_between_mean = unname(imp[[2]]$mean)
  )
  writeLines(toJSON(extra, digits = NA, auto_unbox = TRUE),
             file.path(out_dir, paste0(name, "_h1.json")))
  invisible(fit)
}

sections <- commandArgs(trailingOnly = TRUE)
run <- function(section) length(sections) == 0 || section %in% sections
if (run("complete")) {
# 1. lavaan's Demo.twolevel, the model of lavaan's documentation -------------------------
write.csv(Demo.twolevel, file.path(out_dir, "demo_twolevel.csv"), row.names = FALSE)
demo_model <- "
level: 1
  fw =~ y1 + y2 + y3
  fw ~ x1 + x2 + x3
level: 2
  fb =~ y1 + y2 + y3
  fb ~ w1 + w2
"
writeLines(demo_model, file.path(out_dir, "demo.lav"))
demo <- read.csv(file.path(out_dir, "demo_twolevel.csv"))
write_case("demo_ml", sem(demo_model, data = demo, cluster = "cluster"))
write_case("demo_mlr", sem(demo_model, data = demo, cluster = "cluster", estimator = "MLR"))

# 2. the compendium's survey: chain at level 1, one factor at level 2 ---------------------
# (48 communities: with free between-level residual variances lavaan does not converge and
# three of them are negative; equal between-level residual variances (label rb) converge)
chain <- readLines(file.path("tests", "reference", "sem_robust", "chain.lav"))
chain <- chain[!grepl(":=", chain) & nzchar(trimws(chain))]
survey <- read.csv(file.path(out_dir, "survey_twolevel.csv"))
items <- setdiff(names(survey), "community_id")
survey_model <- paste0("level: 1\n", paste(chain, collapse = "\n"), "\nlevel: 2\n  fb =~ ",
                       paste(items, collapse = " + "), "\n",
                       paste0("  ", items, " ~~ rb*", items, collapse = "\n"), "\n")
writeLines(survey_model, file.path(out_dir, "survey.lav"))
write_case("survey_ml", sem(survey_model, data = survey, cluster = "community_id"))
write_case("survey_mlr", sem(survey_model, data = survey, cluster = "community_id",
                             estimator = "MLR"))

# 3. the generated two-level survey -------------------------------------------------------
gen_model <- paste(readLines(file.path(out_dir, "generated.lav")), collapse = "\n")
gen <- read.csv(file.path(out_dir, "generated.csv"))
write_case("generated_ml", sem(gen_model, data = gen, cluster = "community"))
write_case("generated_mlr", sem(gen_model, data = gen, cluster = "community",
                                estimator = "MLR"))
}

# 4. two-level FIML (missing = "ml") ------------------------------------------------------
# About 10% missing at random in the indicators: each is missing with probability
# plogis(-2.4 + 0.8 z), z the standardised value of an always-observed variable (x1 in
# Demo.twolevel, a1 in the generated survey), drawn with a fixed seed. lavaan fits these
# with the observed information and its EM for the saturated model; with estimator = "MLR"
# lavaan 0.6-14 stops with an error for two-level FIML ("infinite or missing values in 'x'"
# in lav_model_vcov), so there is no MLR reference here.
if (run("fiml")) {
inject_mar <- function(d, vars, driver, seed) {
  set.seed(seed)
  p <- plogis(-2.4 + 0.8 * as.numeric(scale(d[[driver]])))
  for (v in vars) d[[v]][runif(nrow(d)) < p] <- NA
  d
}
demo_model <- paste(readLines(file.path(out_dir, "demo.lav")), collapse = "\n")
demo <- read.csv(file.path(out_dir, "demo_twolevel.csv"))
demo_f <- inject_mar(demo, c("y1", "y2", "y3"), "x1", 20261214)
write.csv(demo_f, file.path(out_dir, "demo_fiml.csv"), row.names = FALSE)
demo_f <- read.csv(file.path(out_dir, "demo_fiml.csv"))
write_case("demo_fiml_ml", sem(demo_model, data = demo_f, cluster = "cluster",
                               missing = "ml"))

gen_model <- paste(readLines(file.path(out_dir, "generated.lav")), collapse = "\n")
gen <- read.csv(file.path(out_dir, "generated.csv"))
gen_f <- inject_mar(gen, c("a2", "a3", "b1", "b2", "b3", "c1", "c2", "c3"), "a1", 20261215)
write.csv(gen_f, file.path(out_dir, "generated_fiml.csv"), row.names = FALSE)
gen_f <- read.csv(file.path(out_dir, "generated_fiml.csv"))
write_case("generated_fiml_ml", sem(gen_model, data = gen_f, cluster = "community",
                                    missing = "ml"))
}

# 5. modification indices of the two-level ML fits (lavaan's default: expected information)
if (run("modindices")) {
for (case in list(c("demo", "demo_twolevel.csv", "cluster"),
                  c("generated", "generated.csv", "community"))) {
  model <- paste(readLines(file.path(out_dir, paste0(case[1], ".lav"))), collapse = "\n")
  d <- read.csv(file.path(out_dir, case[2]))
  mi <- modindices(sem(model, data = d, cluster = case[3]), sort. = FALSE)
  write.csv(mi[, c("lhs", "op", "rhs", "level", "mi", "epc", "sepc.lv", "sepc.all")],
            file.path(out_dir, paste0(case[1], "_ml_modindices.csv")), row.names = FALSE)
}
}
