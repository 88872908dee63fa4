"""`kit new`: a first competition definition drafted from the competition's files.

It reads train, test and the sample submission, and writes competitions/<slug>.toml with the id
and target from the sample submission, the task guessed from the target's values, the metric (given,
in any case, or a guess marked as one), epochs chosen by CV, and a starting recipe chosen from each
column's type: numbers as they are (log1p for long-tailed ones), flags as 1/0, categories one-hot with
their rare levels pooled (whole numbers with a few values too, at a guess: hours, months, seasons),
ISO dates as their year, month and day of the week, and every gap filled (numbers with fractions by the
median, text categories by a level of their own, the rest by the mode). A column with no value in train or test is left out. Each line
carries a comment, so the user can see what to change. Columns it cannot use as they are get a comment instead:
free text, numbers with a few tokens ("?"), and categories with many levels, whose features it makes for one
commented line to add. A classification metric for a target of amounts is refused.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import textwrap
from pathlib import Path

from kit import KitError
from kit.schema import toml_key
from kit.task import (
    METRICS,
    RANKED,
    SQUARED,
    class_order,
    classes_of_columns,
    default_metric,
    infer_task,
    is_number,
    metrics_for,
    refuse_spaced_labels,
    unseen_classes,
)

MAX_LEVELS = 30  # a text column with more distinct values than this is an identifier or free text
# A one-label target with more distinct values than this is amounts or names, not classes: Kaggle's tabular
# classification competitions have a few dozen at most (San Francisco Crime 39, Leaf Classification 99).
MAX_CLASSES = 200
# Training rows without a target said to fall where UNLABELLED_MOSTLY of a group's rows (levels of up to
# UNLABELLED_COLUMNS categories) have none: a trial's sticker sales (230,130 rows) had 9,035 without, 5,028 of them
# one product's whole series in two countries' shops, which the draft's note did not say.
UNLABELLED_MOSTLY = 0.9
UNLABELLED_COLUMNS = 4
RARE_BELOW = 10  # levels seen in fewer rows than this share one level
FLAGS = {"true", "false", "yes", "no"}
# A column of whole numbers with this many distinct values is read as codes, one-hot: the hours of a day
# (24, the most of the common calendar codes), months, weekdays, seasons, weather types. As numbers a linear
# model could only rise or fall across them (RMSLE 1.05 against 0.47 with the hour one-hot on a bike-hire
# set). Two values stay numeric: one 0/1 column already says all that two levels can.
CODES = range(3, 25)
# Unless the target says they are amounts: whole numbers of at least LINE_VALUES values (each of MANY_RARE_BELOW rows
# or more, holding SHARED_ROWS of the rows) whose target mean moves beyond chance (UNORDERED_SIGNAL) and along a
# line, one that leaves at most LINE_LEFT of the means' spread beyond chance (each value weighed by its rows), are
# drafted as numbers: counts and scores (a flood risk's 20 factors of 0-16), where one-hot spends a feature a value.
# A trial's 300,000-row regression set of 20 such columns (RMSE, the draft's folds and plan; the ensemble): one-hot
# 0.0166 in 82 s and 2.4 GB, as numbers 0.0164 in 31 s and 0.79 GB; on its test rows 0.01661 against 0.01638
# (scikit-learn's Ridge 0.0194, with the row sum and spread 0.0178; HistGradientBoosting 0.0205, with them 0.0163).
# An hour's demand peaks twice a day: no line, so still one-hot. A line through 3 or 4 means (a class, a season)
# says little. A multiclass's class rates are shares, held between 0 and 1, so there each need only rise or only fall
# along the values: scikit-learn's digits (8x8 pixels of 0-16, 1,198 training rows, the draft's folds and plan; the
# ensemble) drafted 0.8681 with every pixel one-hot, 0.9007 with the 40 whose rates do so as numbers. Where the
# target hardly moves along them (UNORDERED_SIGNAL), one-hot would spend a feature a value on noise: numbers too
# (digits' 5 such pixels: 0.9624 -> 0.9691, its 0/1 features left 0/1; no draft of the two shipped competitions
# or of three 300,000-row synthetic sets holds one).
LINE_VALUES = 5
LINE_LEFT = 0.25
# Numbers with fractions but few values (3 to 24: a bee density of 0.25, 0.38, 0.5, ...; a temperature band's 69.7,
# 77.4, 86.0) are drafted one-hot where the target's means jump between them rather than following a line (`_along`'s
# "codes"), as whole numbers are; otherwise they stay numbers. A trial's blueberry yields (15,289 rows, MAE; five
# temperature bands of five values so): 346.68 -> 345.78 CV on 4 of 5 folds, hidden rows 343.47 -> 342.22.
# Whole numbers of few values all but one of which are in fewer than RARE_BELOW rows (a pixel at the page's edge: 0
# in 99.9 % of 42,000 rows, the rest 3 to 23 values of a few rows each) are numbers too: one-hot with its rare
# levels pooled would make one 0/1 feature of the common value, and a number keeps that split and the values' order.
# 48 such pixels of a 42,000-row digit set were drafted one-hot: as numbers its nn scored 0.9828 against 0.9762 (5
# folds, better in each). On scikit-learn's 8x8 digits (1,198 rows, 5 folds x 3) 6 such pixels as numbers moved the
# draft's ensemble 0.9685 -> 0.9622 (paired -0.0064, standard error 0.0026; better in 3 of 15, worse in 9), hidden
# test 0.9699 -> 0.9666: there 0.2 to 2.7 % of the rows are off the common value, in the 42,000-row set at most
# 0.07 %. So the rule takes only columns whose other values fill fewer than SPARSE_SHARE of the rows: a line
# between those two sets, the only ones measured.
SPARSE_SHARE = 0.001
# A number of 0 or more is drafted as log(1 + x) when its top 1 % lies 20 times past its median, or its skewness
# passes this (a log-normal price or stock whose top is only 6 times its median). On a 250,000-row sales set (RMSLE)
# it took price and inventory: 5 random folds, linear 0.7787 -> 0.7500, nn 0.6548 -> 0.6522, deep 0.6561 -> 0.6541,
# ensemble 0.6502 -> 0.6484; on 3 time folds linear 0.8029 -> 0.7733, the ensemble within its spread (0.75-0.76).
SKEWED = 2.0
# Under rmsle the models learn log(1 + y): a number of 0 or more and more than CODES values is drafted as
# log(1 + x) too when a line through the number's logarithm leaves LOG_FIT (a share) less of the target's
# logarithm unexplained than a line through the number (a floor area: a price grows by a share for each share of
# area). A trial's synthetic set of 1,460 house prices: the living area, skewness 1.45, correlated 0.433 raw and
# 0.464 logged (3.4 % less left); drafted as logs, the ensemble's CV 0.1163 -> 0.1120 and its hidden test rows'
# 0.1104 -> 0.1067. Areas with many zeros (a basement's) correlate better raw (0.330 against 0.136) and stay; the
# first floor's area (0.7 % less left), years and the rest stay too.
LOG_FIT = 0.02
# A regression target of 0 or more whose skewness passes this, its logarithm's smaller (a price, a count, sales: a
# few values far past the rest), is guessed to be scored on logs: rmsle, which Kaggle's pages also write "RMSE
# between the logarithm of the predicted value and the logarithm of the observed". Its models then learn log(1 + y),
# where squared error on the values lets the largest targets decide. A trial's synthetic set of 1,460 house prices
# (skewness 1.8, 0.3 in logs; 5 folds, the draft's plan), scored by RMSE of logs: trained on the values, the
# ensemble's CV 0.1195 and its hidden test rows' 0.1096; in logs 0.1094 and 0.1017. 1 is the usual line of a
# highly skewed sample; a target nearer symmetric keeps rmse.
TARGET_SKEWED = 1.0
# A number that is 0 in most rows has 0 as its median, so the test above took any such column as long-tailed: 393 of
# the 784 pixels of a 42,000-row digit set (ink of 1 to 255 on a 0 page), whose values above 0 lie 1.3 to 3.6 times
# their median at their top 1 % (skewness -0.9 to 1.9). There the values above 0 are judged: a spend that most rows
# leave at 0 is long-tailed in them too (the five spends of the second shipped competition: skewness 4.0 to 8.5,
# still logs).
# On the digit set (5 folds) the nn with the 393 as numbers 0.9836 against 0.9828 as logs: the same within the folds'
# spread, for a recipe of half the steps.
# A number drafted as it is gets `clip` (kept within its 1 % and 99 % quantiles) when a value lies further past
# them than this many times the distance between them: an entry error of 1,000,000 in a column of 20 to 80 sets a
# standardised column's spread and squeezes every other value into a sliver. A 30,000-row regression whose x held
# 0.2 % such values (5 folds, RMSE): deep 2.0708 -> 0.7457, nn 2.0704 -> 1.6961, linear 2.0699 -> 2.0524.
OUTLIER_SPREAD = 10
CLIP = [0.01, 0.99]
# A text column is drafted as dates when a sample of its distinct values all start like an ISO date and read as one.
ISO_DATE = re.compile(r"\s*\d{4}-\d{1,2}-\d{1,2}")
DATE_SAMPLE = 1000  # distinct values looked at, the first ones seen
DATE_PARTS = ("year", "month", "dayofweek")  # the parts a drafted date starts with: the season, the week's rhythm
# ... and the hour where the times of day differ: a trial's crimes (300,000 rows, 39 classes, log loss), 2.5002 ->
# 2.4876 CV on 5 of 5 folds, hidden 2.49675 -> 2.48323; an insurance copy whose times were drawn at random, the same
# (1.0060 both, hidden 1.00449 -> 1.00448). A time the same in every row (a file's one upload time) adds none.
TIME_PART = "hour"
# A drafted time split validates blocks as long as the test period: TimeSeriesSplit's own blocks are the distinct
# times / (folds + 1) long (4 months of a 2-year set for a 30-day test), and its first fold learns from 4 months
# alone and dominates the spread. On a user's store-sales set (730 days, a 30-day test, 5 folds, the ensemble):
# the draft's recipe 0.5408 +- 0.0156 (folds 0.53-0.57) -> 0.5041 +- 0.0066 (0.49-0.52) with block = 30; their
# tuned recipe 0.5308 +- 0.0360 (first fold 0.602) -> 0.5098 +- 0.0084; a gradient-boosting baseline 0.505.
TIME_BLOCK = [
    "# Each fold validates a block as long as the test period, the last blocks of that length: TimeSeriesSplit's",
    "# own are the distinct dates / (folds + 1) long, and its first fold learns from the first block alone (a",
    "# 2-year daily set, 30 test days: RMSLE 0.5408 +- 0.0156 across folds -> 0.5041 +- 0.0066 with block = 30).",
]
# Gaps in a one-hot text column become a level of their own rather than the mode. The mode gives a gap the
# effect of one real level (on near-uniform categories a different one per fold); a level of its own learns
# what gaps have in common: on drafted recipes, same folds and plan, CV accuracy 0.7172 -> 0.7184 on a 300,000-row
# synthetic set with 2 % gaps at random, 0.7158 -> 0.7203 where a gap carries signal, and ties (within the
# seeds' noise) on the two real Titanic sets of bench_quality. A gap seen only in test is a level training never
# saw: all zeros.
MISSING = "missing"
# A text column of more than MAX_LEVELS values is a category with many levels (a store, a product code), not free
# text or an identifier, when its texts are short and the levels seen in more than one training row hold most rows.
# The draft uses its target rate (each training row's learned without its own label); where it drafts one_hot or a
# count instead, it leaves them out of numeric / one_hot but for a commented line to uncomment. Left out, as drafts
# had it before, the category cost a user's binary set accuracy 0.7194 -> 0.6580 (a 500-level store; the ten-line
# baseline 0.7198) and the 5-class set below 0.5119 -> 0.4045. Which features, by the task, from a user's synthetic sets with a 1,000-level store (5 folds; the
# ensemble): 7 classes, 100,000 rows, its levels one-hot with those in fewer than MANY_RARE_BELOW rows pooled took
# log loss 0.9736 -> 0.9359 (every model, every fold); binary, 120,000 rows, the same cost AUC 0.8576 -> 0.8428
# (the nets overfit), where its target rate (target_mean) gave 0.8599 and its count 0.8577. So the rate, for every
# task: on a user's 5-class set (60,000 rows, a 1,855-level store, accuracy, the draft's folds and plan) the rate of
# each class gave 0.5119 in 18 s, one-hot with rare levels pooled 0.4612 in 51 s, the count 0.4042 in 13 s (scikit-
# learn's TargetEncoder + HistGradientBoosting: 0.4894); on a regression set (50,000 rows, a 1,000-level group
# shifting the target, noise 1.0) the mean target gave RMSE 1.035 in 12 s, one-hot 1.564 in 39 s, the count 2.107
# in 18 s. A category with fewer than two levels of MANY_RARE_BELOW rows (an id of a few rows a level) keeps
# its count there: the others of its level are too few for a rate (not measured).
SHARED_ROWS = 0.8  # the share of rows whose level is seen in other rows too
# Unless a few levels hold nearly every row and the rest are stray values: at most MAX_LEVELS levels, each in
# STRAY_SHARE of the rows or more (and RARE_BELOW rows), holding with the gaps COMMON_SHARE of the rows. Such a column
# is a category of those few levels with typing slips, and drafted as one (one-hot, the stray values pooled by
# `rare` as a share, which holds whatever rows a fold or --rows leaves). A trial's synthetic mushroom set (3,116,945
# rows; 17 text columns of 81-91 values, 3 to 13 levels holding 99.7-99.9 % of each; MCC) had all 17 drafted as
# target rates: CV 0.8863 on 50,000 rows (5 folds), hidden test 0.9001; one-hot with the stray values pooled and
# gaps a level, CV 0.9338, hidden test 0.9588 (scikit-learn's HistGradientBoosting 0.9454, LogisticRegression 0.7441).
STRAY_SHARE = 0.001
COMMON_SHARE = 0.99
# A column of whole numbers with more values than CODES whose name says it is a code (item_nbr, store_id, zipCode)
# is drafted as a text category would be (many levels: its target rate): as a number a model can only rise or fall
# along the codes' arbitrary order. A user's store-sales set (item_nbr, 200 values; time folds of the test's 30
# days; the ensemble): RMSLE 0.8543 as a number -> 0.5041 as its rate (their baseline 0.505); TimeSeriesSplit's own
# folds 0.8839 -> 0.5408.
CODE_NAME = re.compile(r"(?:^id|_id|_nbr|_no|_num|_code|_key|Id|ID|Nbr|Code)$")  # as written; not `paid`, `humid`
# Whole numbers of many values under another name (a sales channel stored as 152.0) are codes too when the data says
# so: the target's mean moves between their values far beyond chance (UNORDERED_SIGNAL times the variance chance gives
# a value's mean, each value weighed by its rows), and each value's mean stands apart from the midpoint of its
# neighbours' (by more than half that spread, weighed alike), where an amount's (an age's) bends slowly along them.
# Only values of MANY_RARE_BELOW rows or more are compared, and only where they hold SHARED_ROWS of the rows. On a
# trial's 400,000-row insurance set (binary, AUC; 155 channels) the channel as a number gave the draft 0.9187, as its
# target rate 0.9305 (scikit-learn's one-hot LogisticRegression 0.9285, HistGradientBoosting with categories 0.9296).
# Each value is weighed by its rows: a trial's 120,000-row set (146 channels, three of them holding 73 % of the rows,
# 100 of 30-300 rows) read 2.4x chance unweighed, so the channel stayed a number (the draft's AUC 0.8943,
# HistGradientBoosting's 0.8992), and 84x weighed: as its rate 0.9006. Apart from their neighbours' midpoint, codes
# measured 0.9-1.7 of the spread (the trial's regions and channels, a test's channels), ages 0.006 and less.
UNORDERED_SIGNAL = 3.0
# A category of many levels whose target means spread between its levels by no more than this share of the
# variance chance alone gives them (`_levels_flat`) is left out, its target_mean line commented. Measured beyond
# chance: a trial's 420 first names, 47 professions and 100 episode titles, none of which moved its target, -0.10,
# -0.01 and -0.09; surnames 1.8 (their rate gained a bank-churn trial 0.8771 -> 0.8798 AUC, 5 of 5 folds, hidden rows
# 0.8770 -> 0.8800), cities 6.1. The names' and professions' rates, drafted, took that trial's ensemble 0.9362 ->
# 0.9359 (nn 0.9360 -> 0.9356), its hidden rows 0.93574 -> 0.93547.
LEVELS_FLAT = 0.5
# A number with fractions whose exact values repeat (REPEAT_ROWS training rows a value or more on average, over
# REPEAT_VALUES values or more) and whose target mean moves from each value to the next beyond chance (each mean
# against its neighbours' midpoint, as _unordered measures it, REPEAT_Z standard errors above nothing over the
# values) is what a synthetic set that copies an original's rows leaves: the exact value names the original row.
# It stays a number and gets its values' target rate too (target_mean). A trial's backpack prices (300,000 rows,
# RMSE, Weight Capacity 30,782 values of about 10 rows each, the winners' feature): the draft's CV 38.810 -> 38.592
# with the rate added by hand, 5 of 5 folds better, hidden rows 38.866 -> 38.652 (HistGradientBoosting with it
# 38.656, without 38.863). Along a measured amount the means bend slowly and read as chance.
REPEAT_ROWS = 5
REPEAT_VALUES = 100
REPEAT_Z = 4.0
SHORT_TEXT = 30  # characters, the median over the levels
# Free text (mostly distinct texts of several words a row: descriptions, names, reviews) is drafted as a flag for each
# of its WORDS most common words (`words`); texts of one token a row (ids, codes) stay left out. A user's listings set
# (40,000 rows, descriptions of 2-10 words of 23; RMSE, the draft's folds and plan): left out 74.15, as words 58.04,
# both 9 s (the user's hand-made flags with gap flags: 55.56; scikit-learn's HistGradientBoosting on word counts 57.43).
# Titanic's Name (titles among its words): accuracy 0.8002 left out -> 0.8133 as words (3 split seeds x 3 seeds).
# Where the text is most of the signal, 30 words are the commonest ("the", "a", "http") and miss the telling ones: the
# draft flags every word held by WORD_SHARE of the training rows or more, WORDS to WORDS_MAX of them. A user's trial
# of 7,613 synthetic tweets (F1, 5 folds, threshold tuned): 30 words 0.6537 (hidden test 0.6629), 100 0.6505, the 219
# in 1 % of the rows 0.7445 (0.7559), 300 0.7465 (0.7471), 1,000 0.7462 (0.7560) in 14.5 s and 0.63 GB against 7.5 s
# and 0.39 GB, every one of its 12,208 words 0.7396 in 242 s and 2.3 GB (inputs are dense: each word a column).
WORDS = 30
WORD_SHARE = 0.01
WORDS_MAX = 300
# Where the text is nearly all there is (TEXT_INPUTS input columns or fewer, the text among them), the words below 1 %
# of the rows tell most: every word in WORD_ROWS training rows or more, up to WORD_CELLS rows x words (the features
# are dense: 3,000 words of 19,579 rows took 1.8 GB) and TEXT_WORDS. A trial's synthetic Spooky Author set (19,579
# rows of text alone, 3 authors, log loss, 5 folds): the 243 words in 1 % of the rows 0.8332, 1,000 0.5995, 3,000
# 0.5440 (114 s; TF-IDF with LogisticRegression 0.5252); drafted so, its 2,741 words in 10 rows or more 0.5534,
# hidden rows 0.5422, in 169 s at load 4 and 1.67 GB. The tweets above (7,613 rows, keyword, location and text)
# scored 0.7462 with 1,000 words against 0.7445 with 219.
TEXT_INPUTS = 3
WORD_ROWS = 10
WORD_CELLS = 6e7
TEXT_WORDS = 3000
WORDY = 3  # words a row, the median, for a text to be read as words
MANY_RARE_BELOW = 30
# The default preset trains 100 epochs, batches of 1,024 rows: on a train of up to FEW_ROWS rows (5 folds: a fold
# learns from 4,096 or fewer) an epoch is 1 to 4 Adam steps of lr 0.01, and 100 of them leave the linear model short
# of where it converges. The draft asks for FEW_ROWS_EPOCHS there; choose_epochs and patience stop each model where
# its curves do, so only models still improving use them. Measured on drafts (5 folds; the ensemble): a trial's
# synthetic house prices (1,460 rows, RMSLE, x 3 repeats) 0.1090 -> 0.1054, better in 15 of 15 folds (linear 0.1100
# -> 0.1064; scikit-learn's Ridge 0.1052), its hidden test 0.1022 -> 0.1010, in 45 s against 20 s; scikit-learn's
# digits (1,198 rows, x 5) 0.9633 -> 0.9634, linear 0.9407 -> 0.9474; Titanic (891 rows, x 10) 0.8184 -> 0.8175,
# within its spread (9 folds better, 16 worse of 50), linear 0.8079 -> 0.8103. Sets of 7,600-8,700 rows (6-7 steps
# an epoch: tweets' F1, a 3-class log loss, a real passenger set) scored the same with 300: every model stopped before
# 100. The linear model's lr 0.03 instead (x 3): house 0.1066, digits 0.9463, Titanic 0.8115 (0.8118 before).
FEW_ROWS = 5 * 1024
FEW_ROWS_EPOCHS = 300
# Each number of PIECEWISE_VALUES distinct values or more gets PIECEWISE_BINS piecewise bins at its training quantiles
# (kit.recipe's piecewise: a net can weigh a step at each, as a tree splits) on a train of PIECEWISE_ROWS rows.
# Measured on drafts as written and with the bins (5 folds x 3 repeats, the ensemble): a real passenger set (8,693
# rows) 0.7926 -> 0.7953, its hand-written recipe 0.8029 -> 0.8153; synthetic sets of thresholds and interactions: 3,000
# rows 0.7288 -> 0.7522, 15,000 rows and 4 classes 0.5741 -> 0.5966, 20,000 rows by ROC AUC 0.8385 -> 0.8529, 30,000
# rows by RMSE 3.3295 -> 3.3163 (the same sets cut to 900-5,000 rows gained too); a 3,000-row set whose target is a
# line in its numbers lost 0.7304 -> 0.7286. Left out of the draft (a commented line): Titanic (891 rows) lost, 0.8200
# -> 0.8112; a 300,000-row set whose target is a line in its 20 numbers lost 0.7188 -> 0.7182 and doubled its training
# time (18 -> 32 s) and peak memory (0.94 -> 2.0 GB). A trial's 120,000-row insurance set (AUC; age hump-shaped, a
# skewed premium) gained with them, 0.8943 -> 0.8997 (its hidden test rows 0.8960 -> 0.9008), training in 29 s
# against 36 s and peaking at 550 MB against 473 MB: bins are drafted up to 200,000 rows, between the two. A later
# trial's 750,000-row bank set (AUC) gained 0.8640 -> 0.8649 (hidden 0.8665 -> 0.8676) at 1.57 -> 2.10 GB: above
# 200,000 rows the line stays commented, its comment saying both. More than
# PIECEWISE_MAX such numbers (pixels) would be thousands of bins.
# ROW_COLUMNS or more like counts drafted as numbers (risk factors scored 0-16, a survey's answers) take each row's mean
# and spread across them too (recipe step row): a sum of many like counts is often their sense (a flood's risk), and
# their spread is a feature no weighted sum of them makes. Paired on the same folds, the draft's plan: a trial's
# 1,117,957 rows of 20 counts (R2) 0.8590 -> 0.8594, every model better on 5 of 5 folds, its hidden test rows
# 0.85898 -> 0.85919, in 174 epochs of the three models against 229; a 300,000-row one (RMSE, the spread alone) 0.0164
# -> 0.0163 on 5 of 5; scikit-learn's 8x8 digits (39 pixels of 0-16 drafted so; 5 folds x 3) 0.9583 -> 0.9577 within
# noise (7 folds won, 7 lost), its hidden test rows 0.9766 -> 0.9816.
ROW_COLUMNS = 10
NEAR_SAME = 0.98  # two two-valued columns that say the same in this share of rows are named in a note
NEAR_FLAGS = 50  # ... among the first this many: a pass over the rows for each pair
PIECEWISE_BINS = 8
PIECEWISE_VALUES = 20
PIECEWISE_ROWS = (2_000, 200_000)  # drafted from the first, below the second
PIECEWISE_MAX = 64
# Whole-number classes read as a rating (and the draft notes kappa) when the commonest holds RATING_PEAK times the
# share of an even split or more: wine qualities 3-8 peak at 5 and 6 (40 % each of 6 classes), a digit's 10 classes
# hold about 10 % each.
RATING_PEAK = 1.3
# A text column of more than MAX_LEVELS values, nearly all of which (SPLIT_SHARE of the rows) hold no space and split on
# one of SPLIT_SEPARATORS into the same 2 to SPLIT_MAX parts, is a compound code (a cabin "B/0/P": deck / number /
# side): the draft splits it (`split`) and drafts each part by its own type, where the whole would be left out as an
# identifier: a real passenger set's draft (8,693 rows, its cabins B/0/P; 5 folds x 3 repeats) 0.7953 -> 0.8066.
SPLIT_SEPARATORS = ("/", "|", ":", ";")
SPLIT_SHARE = 0.99
SPLIT_MAX = 4
# A train of WIDE_COLUMNS input columns or more (pixels) gets nets of WIDE_HIDDEN units a layer and lr WIDE_LR: with
# 32 units and lr 0.01 a 42,000-row set of 784 pixels (a digit proxy; 5 folds, the draft's plan) scored accuracy
# 0.9879 (nn 0.9836, deep 0.9809; linear 0.8061) against scikit-learn's MLPClassifier's 0.9941; 128 units and lr 0.001
# 0.9951 (nn 0.9935, deep 0.9943, linear 0.8196), its hidden test rows 0.9584 -> 0.9722 (MLPClassifier 0.9710). Either
# alone did not: 128 units at lr 0.01 peaked by epoch 10 (nn 0.9835), lr 0.001 at 32 units 0.9866, lr 0.003 0.9878.
# Narrower sets lose by it (x 3 repeats, 300 epochs): a trial's house prices (79 columns, 281 features) nn RMSLE 0.1222
# -> 0.1274, deep 0.1287 -> 0.1343; a trial's tweets (221 features, F1) 0.7450 -> 0.7408. Measured on that one wide
# set: a wide set of another kind may want otherwise.
WIDE_COLUMNS = 500
WIDE_HIDDEN = 128
WIDE_LR = 0.001
# A pair of categories (one_hot columns or flags) whose cells' target rates differ beyond what the two explain
# alone is drafted as the pair's rate, a target_mean by both: a linear model adds each one's effect in logits and
# cannot weigh a cell on its own. The test: on one half of the training rows, the two columns' main effects (in
# logits for classes, means for a regression) and the cells' rates pulled toward them; on the other half, how much
# less loss the cells leave, both ways round. Controls (two categories whose effects add in logits, 900 to 100,000
# rows, effects of spread 0.5 to 2) left 0.05 % to 4 % more loss; the pairs drafted: Titanic's Pclass x Sex 3.1 %
# less (its draft's CV 0.8197 -> 0.8257, 5 folds x 3), the second shipped competition's deck x CryoSleep 4.4 %
# (0.8066 -> 0.8076), a trial's fertilizers Soil x Crop 1.1 % (MAP@3 0.3787 -> 0.3874). Only the strongest pair is
# drafted (a second that passes, Titanic's Sex x Parch 0.97 %, took its CV 0.8257 -> 0.8186; the second shipped
# competition's HomePlanet x CryoSleep 3.5 %, 0.8076 -> 0.8081), and only a pair of PAIR_ROWS training rows a cell or
# more: fewer make its rates noise.
PAIR_GAIN = 0.005
PAIR_ROWS = 20
PAIR_LEVELS = 30  # a column of more levels is no small category to pair
PAIR_COLUMNS = 20  # pairs among the first this many such columns: 190 pairs, a pass over the rows each
PAIR_SMOOTHING = 10.0  # a cell's rate is pulled toward the main effects' as if by this many rows
# A right-skewed regression target under rmse or r2 is drafted `log_target = true` when a held-out test finds both
# that its effects multiply and that its errors grow with it. On one half of the training rows, three models of every
# column's effect (categories, and numbers cut into LOG_BINS bins at their quantiles), fitted in turn: effects added on
# the values, effects added in logs (scaled back to the mean, kit.smearing), and those multiplying effects fitted by
# least squares on the values; scored by RMSE on the other half, both ways round. Logs must beat the added
# effects (effects multiply: kit's linear model gains in logs) and lose at most LOG_ERRORS to least squares (errors
# that keep one size make logs chase the smallest targets' noise). Six 20,000-150,000-row trials, the share of
# error logs left less than least squares, then their drafts' ensemble CV RMSE on the values -> in logs:
# used-car prices (lognormal errors) +0.4 %, 82,048 -> 81,873; hourly counts (overdispersed) +0.05 %, 43.59 -> 43.28;
# gamma errors +0.5 %, 215.5 -> 213.7; small Poisson counts -0.6 %, 2.153 -> 2.145; errors of one size, effects
# multiplying -13.4 %, 826 -> 1,039, and adding -13.2 %, 62.7 -> 74.4. The nets alone moved -1.1 to +0.9 % where
# errors grow and lost 25-36 % where they keep one size; the linear model gained 5.5-14 % wherever effects multiply.
LOG_ERRORS = 0.02
LOG_BINS = 16
LOG_LEVELS = 200  # a text column of more distinct values is left out of the test (an identifier, free text)
LOG_COLUMNS = 50  # the first this many columns: each is a pass over the rows per fit
LOG_SMOOTHING = 5.0  # a level's effect is pulled toward none as if by this many rows
# At most LOG_ROWS rows, drawn at random: on 150,000 used-car rows 0.7 -> 0.5 s, the shares 0.45 and 0.39 % -> 0.43
# and 0.72 %. Below LOG_MIN_ROWS the shares are noise (600 lognormal prices: -4.5 to +14 % over seeds; 3,000: -0.3
# to +1.2 %), and log_target is only offered.
LOG_ROWS = 100_000
LOG_MIN_ROWS = 2_000
SEEN_TEST = 0.5  # the share of test rows whose value of a many-level column is seen in training, above which
# its rows are no new customers to keep in one fold
# Numbers with a unit inside a text ("172.0HP 1.6L 4 Cylinder Engine Gasoline Fuel") are features words lose ("172",
# "0hp"): the draft comments an `extract` of each unit held by UNIT_ROWS of the rows with UNIT_VALUES distinct
# numbers or more (a horsepower and a size, not "24V"), at most UNITS of them.
UNIT_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)([A-Za-z]{1,3})\b")
UNIT_ROWS = 0.1
UNIT_VALUES = 5
UNITS = 3
# A text column of levels that are one whole number in the same words ("Episode 73", "Store_12": FRAMED_SHARE of the
# rows, FRAMED_VALUES numbers or more) is drafted as a category; its number, in order, is a feature too, which no
# level's rate or one-hot column gives: the draft comments an `extract` of it (a trial's podcast episodes, 400,000
# rows, whose target moved along the number in one genre: the ensemble's RMSE 11.996 -> 11.989 with it, better on 5 of
# 5 folds, hidden test 12.0264 -> 12.0179). Commented: a shop's code holds no order to follow.
FRAMED = re.compile(r"^(\D*?)(\d+)(\D*)$")
FRAMED_SHARE = 0.99
FRAMED_VALUES = 10
# A text column whose cells are numbers but for a few distinct tokens ("?", "n/a") in a few rows is numbers with
# markers for gaps, not text: the draft names the tokens.
FEW_TOKENS = 5  # distinct texts that are not numbers, at most
# A number column with gaps in at least this share of training rows gets a 0/1 feature of where they were
# (`is_missing`), besides the fill: where a gap carries signal (a price not given, a test not taken), the fill
# alone hides it. On a user's listings set (gaps in 30-60 % of rows, where missingness raised the price) the flags
# took a tuned recipe's RMSE down by 2.08, worse without them on all 5 folds, and the draft's 74.15 -> 72.58 (with
# whole numbers of many values, such as a building's age, filled by the median rather than the mode).
GAP_FLAG_ROWS = 0.05
# ... and one with fewer gaps gets the flag where they move the target beyond chance: the gap rows' mean target (each
# class's rate) GAP_Z standard errors or more from the other rows', with MANY_RARE_BELOW gap rows or more. A trial's
# synthetic insurance set (600,000 rows, RMSLE; an income missing in 3.7 % of rows, those premiums higher): CV 1.0077
# -> 1.0060, better on 5 of 5 folds, hidden test 1.00614 -> 1.00449 (HistGradientBoosting 1.00417). Where the count
# of each row's gaps is drafted (GAP_COUNT) it stands for them: a count that drives the target moves each gap's rows.
GAP_Z = 4.0
# GAP_COUNT: the gaps of the columns that get no flag of their own (fewer than GAP_FLAG_ROWS, or codes) are counted
# per row (`is_missing` of them all) where the target's mean moves along that count beyond chance (`_along`, the test
# of whole numbers of few values: LINE_VALUES counts of MANY_RARE_BELOW rows or more). As in Tabular Playground's Sep
# 2021 set, whose best single feature the count was: on a trial's synthetic 300,000-row copy (118 numbers, 1.6 % gaps
# each, ROC AUC) the draft's CV went 0.5443 -> 0.7914 with the count, its hidden test 0.7912 (the generator's own
# probabilities score 0.7952). An 8,693-row competition's gaps (12 columns, 2 % each) fall at random and are not
# counted (three counts of 30 rows or more); hand-added, the count cost its main job 0.8153 -> 0.8110 (11 of 15 folds
# lost).
TOKEN_ROWS = 0.1  # the share of rows they may hold, at most
# Numbers written with separators: a text column whose values all read (but for a few tokens) in one of these forms
# is numbers; on a tie the first: "1,234" reads as a thousand and more, "0,5" and "12,25" with a decimal comma.
NUMBER_FORMS = [
    ({"thousands": ","}, r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[-+]?\d*\.\d+"),
    ({"decimal": ","}, r"[-+]?\d*,\d+"),
    ({"thousands": ".", "decimal": ","}, r"[-+]?\d{1,3}(?:\.\d{3})+(?:,\d+)?|[-+]?\d*,\d+"),
    ({"thousands": " ", "decimal": ","}, r"[-+]?\d{1,3}(?: \d{3})+(?:,\d+)?|[-+]?\d*,\d+"),
]
# every text a form of NUMBER_FORMS or a plain number (pandas' to_numeric) can read, and more: digits and separators,
# an exponent, inf or nan
NUMBER_LIKE = re.compile(
    r"\s*[-+]?(?:\d[\d.,\s]*|[.,]\d[\d.,\s]*)(?:[eE][-+]?\d+)?\s*|\s*[-+]?(?:inf|infinity|nan)\s*", re.I
)
DATE_LIKE = re.compile(r"\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")  # dates not written the ISO way: not levels
# The forms of those a draft tries, day first before month first: a sample whose days are all 12 or less reads
# both ways, and the draft says so. Each may carry a time (" %H:%M", " %H:%M:%S").
DATE_FORMS = [
    f"{a}{sep}{b}{sep}{year}" for year in ("%Y", "%y") for sep in "/.-" for a, b in (("%d", "%m"), ("%m", "%d"))
] + [f"%Y{sep}%m{sep}%d" for sep in "/."]


def find_files(data_dir: Path) -> dict[str, str]:
    """The train, test and sample submission file names in data_dir, by role."""
    from kit.competition import compressed

    names = sorted(p.name for p in Path(data_dir).glob("*.csv"))
    roles = {}
    for role, pattern in (("sample_submission", r"submission"), ("train", r"^train"), ("test", r"^test")):
        found = [n for n in names if re.search(pattern, n, re.IGNORECASE) and n not in roles.values()]
        if found:
            roles[role] = found[0]
    missing = [r for r in ("train", "test") if r not in roles]
    if missing and (packed := compressed(data_dir)):
        raise KitError(
            f"{data_dir} has no {' or '.join(missing)} CSV, but holds {', '.join(packed)}, compressed",
            fix="extract",
            folder=data_dir,
        )
    if missing:
        raise KitError(
            f"{data_dir} has no {' or '.join(missing)} CSV (names starting train / test)", fix="data_dir_csvs"
        )
    return roles


def _read(path: Path, **options):
    """A CSV of the competition as pandas reads it, or one sentence saying why it cannot be read."""
    import pandas as pd

    from kit.competition import refuse_other_separator

    try:
        frame = pd.read_csv(path, **options)
    except pd.errors.EmptyDataError:
        raise KitError(f"{path} is empty; a competition file needs a header and rows.") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise KitError(f"{path} is not a readable CSV ({reason}); check the file.") from None
    refuse_other_separator(frame, path)
    if options.get("nrows") != 0 and frame.empty:
        raise KitError(f"{path} has a header but no rows; a competition file needs rows.")
    return frame


def draft(slug: str, data_dir: Path, metric: str | None = None, record_folder: bool = False) -> tuple[str, list[str]]:
    """(the text of a definition for the competition whose files are in data_dir, notes for the user:
    what the draft left out or changed from the files, one sentence each). record_folder: write data_dir into
    the definition, so that every command reads the files there without --data-dir."""

    files = find_files(data_dir)
    train = _read(Path(data_dir) / files["train"], low_memory=False)
    test = _read(Path(data_dir) / files["test"], low_memory=False)  # all of it: a column may be empty
    columns, id_col, target, row_ids = _submission_columns(files, data_dir, train, test)
    multilabel = isinstance(target, list)  # several two-valued target columns (see _submission_columns)
    # rows without a target (sales never recorded) teach nothing: left out of the draft, and of training by the line
    # it writes (unlabelled = "skip"), where kit would otherwise stop at the first
    unlabelled = train[target if multilabel else [target]].isna().any(axis=1)
    n_rows, n_unlabelled = len(train), int(unlabelled.sum())
    where_unlabelled = None  # (how many, where) of the rows without a target
    if n_unlabelled and n_unlabelled < n_rows:
        where_unlabelled = _unlabelled_groups(
            train, test, unlabelled.to_numpy(), [id_col, *(target if multilabel else [target])]
        )
        train = train[~unlabelled]
    values = [] if multilabel else sorted({_text(v) for v in train[target].dropna().unique()})  # each value once
    given = metric is not None
    metric = metric.lower() if given else None  # METRICS' names are lower-case; "RMSLE" means rmsle
    if multilabel:
        kind, metric, why, choices = _multilabel_metric(target, metric)
    else:
        kind, metric, why, choices = _task_and_metric(values, columns, target, metric, files, data_dir)
    notes, why_metric = [], ""
    targets = set(target) if multilabel else {target}
    if only := [str(c) for c in train.columns if c not in test.columns and c not in targets and c != id_col]:
        # said, not silently left out: such columns are often made from the target (a crime's Descript, Resolution)
        notes.append(
            f"{', '.join(only)} {'are' if len(only) > 1 else 'is'} in {files['train']} only: left out, as the test "
            "rows lack them (made from the target, they would also leak it into CV)"
        )
    if n_unlabelled and n_unlabelled < n_rows:
        notes.append(
            f'{n_unlabelled:,} training rows have no target: the draft leaves them out (unlabelled = "skip")'
            + (f"; {where_unlabelled[0]:,} of them are {where_unlabelled[1]}" if where_unlabelled else "")
        )
    if not given and kind == "regression" and (skews := _skewed_target(train[target])):
        metric = "rmsle"  # a price, a count, sales: errors in ratio (see TARGET_SKEWED)
        why_metric = (
            f"{target} is 0 or more and right-skewed (skewness {skews[0]:.1f}, {skews[1]:.1f} in logs), as prices "
            "and counts are, which competitions often score on logs"
        )
        notes.append(
            f"metric rmsle is a guess: {why_metric}, so the models learn log(1 + {target}); if the competition "
            'scores the values themselves, set the metric it uses: "rmse" or "mae", or "mape" or "smape" for errors '
            "as a share of the value"  # a trial's MAPE user followed "rmse" alone: hidden MAPE 0.35 against 0.15
        )
    if (
        not given
        and kind == "binary"
        and METRICS[metric].submits == "label"
        and (held := _sample_one_label(files, data_dir, values))
    ):
        # the sample's one value (0 everywhere) says nothing of labels or probabilities: a trial's AUC competition,
        # drafted as accuracy, sent 0/1 labels that scored 0.7926 against 0.9023 for its probabilities
        notes.append(
            f"the sample submission's {columns[-1]} holds only {held}, which says nothing of the metric: {metric} "
            'writes 0/1 labels; if the competition scores probabilities (AUC, log loss), set metric = "roc_auc" or '
            '"log_loss" (labels scored by AUC lost 0.11 in a trial)'
        )
    shares = train[target].dropna().map(_text).value_counts(normalize=True) if kind == "multiclass" else None
    if (
        not given
        and kind == "multiclass"
        and len(values) > 2
        and all(_whole(v) for v in values)
        and shares.max() >= RATING_PEAK / len(values)  # a rating's middle classes are common; digits 0-9 are not
    ):
        ordered = sorted(values, key=float)
        notes.append(  # a rating's classes say nothing of its metric: accuracy is the guess, kappa as common
            f"{target}'s classes are whole numbers ({ordered[0]} to {ordered[-1]}), as a rating's are: if the "
            'competition scores them by quadratic weighted kappa, set metric = "qwk" (ordered classes)'
        )
    lines = [
        f"# A first definition of {slug}, drafted by `kit new` from {', '.join(files.values())}.",
        "# Every value below is a starting point: check the task, the metric and the recipe.",
        f'slug = "{slug}"  # the competition\'s name on Kaggle: kaggle.com/competitions/{slug}',
        f'title = "{slug.replace("-", " ").title()}"  # shown in reports and as the notebook\'s title',
        f"id = {json.dumps(id_col)}  # the id column of "
        + ("the submission" if row_ids is not None else "test.csv and the submission"),
        *(
            [
                f"row_ids = {row_ids}  # {files['train']} and {files['test']} have no {id_col} column: a row's id is "
                f"its row number, from {row_ids}, as {files['sample_submission']} numbers the test rows"
            ]
            if row_ids is not None
            else []
        ),
        f"target = {json.dumps(target)}  # the column{'s' if multilabel else ''} to predict in train.csv"
        # the sample's one target column in another case (Label for label), never a class's column (Status_C)
        + (f" (the submission writes it {columns[1]})" if len(columns) == 2 and columns[1] != target else ""),
        *(
            [
                f'unlabelled = "skip"  # {n_unlabelled:,} of {n_rows:,} training rows ({n_unlabelled / n_rows:.1%}) '
                f'have no {" or ".join(target) if multilabel else target}: left out of training ("refuse" stops at the first)',
                *([f"# {where_unlabelled[0]:,} of those rows are {where_unlabelled[1]}."] if where_unlabelled else []),
            ]
            if n_unlabelled and n_unlabelled < n_rows
            else []
        ),
        f'task = "{kind}"  # {why}: binary, multiclass, multilabel or regression',
        *_ordinal_alternative(kind, metric, values),
        f'metric = "{metric}"  # '
        + (
            f"a guess{': ' + why_metric + ', so the models learn its logarithm' if why_metric else ''}: set the "
            "metric the competition is scored by "
            f"({', '.join(choices)})"
            if not given
            else "the metric the competition is scored by"
        ),
        'recipe = "base"  # the recipe used when --recipe is not given',
        *(
            [
                f"data_dir = {json.dumps(str(data_dir))}  # the folder the files were drafted from (relative to the "
                "folder kit runs in): every command reads them there unless it is given another"
            ]
            if record_folder
            else []
        ),
        "",
        "[files]  # the competition's files, as the download names them",
    ]
    lines += [f'{role} = "{name}"  # {role.replace("_", " ")}' for role, name in files.items()]
    lines += _extra_lines(files, data_dir, train, id_col, target, kind)
    lines += ["", "[submission]"]
    lines.append(f"columns = {_list(columns)}  # the submission's header, in order")
    if kind != "regression" and len(columns) == 2:
        order = "negative, positive; " if kind == "binary" else ""
        ordered = METRICS[metric].ordered and kind == "multiclass"
        lines.append(
            f"labels = {_list(class_order(metric, kind, values))}  # the classes ({order}the target's values), as "
            "the submission writes them"
            + (f"; {metric} counts a miss by how far apart they are in this order" if ordered else "")
        )
        if ordered and not all(is_number(v) for v in values):
            notes.append(  # text has no order kit can know: "high" sorts before "low"
                f"{metric} counts a miss by how far apart the classes are in the order of [submission] labels, "
                "drafted sorted as text: list them in their order"
            )
    if kind == "multiclass" and (unseen := unseen_classes(columns[1:], values)):
        lines.append(
            f"labels = {_list(sorted([*values, *unseen]))}  # every class a column names; {', '.join(unseen)}: "
            "never in the training rows"
        )
        notes.append(
            f"the sample submission names {', '.join(unseen)}, a class the training rows never hold: "
            "it is listed in [submission] labels and predicted rarely"
        )
    lines += [
        "",
        "[training]",
        "# A fixed 100 epochs can overfit, a deep net most (on a 22,000-row set its AUC fell to 0.71 against the",
        "# linear model's 0.76, and took the ensemble below linear): each model trains the epochs CV finds best.",
        "choose_epochs = true  # each fold's epochs chosen on the other folds' curves, the full fit's on all folds",
        "# Stopping the curves this way gave a 300,000-row set the same CV in a quarter of the time, and two small",
        "# competitions the same or better CV in 60-70% of it.",
        "patience = 10  # the curves stop once neither they nor the validation loss has improved for 10 epochs",
        "# An equal mean lets a weak model pull the ensemble down; weights chosen by CV scored higher on the drafts",
        "# for two small competitions (0.8088 -> 0.8126 and 0.7901 -> 0.7913, 5 folds x 3 repeats).",
        "ensemble = \"select\"  # weights chosen on the folds' predictions, each fold's on the other folds",
        # a trial's user found no pointer to seeds in the draft, and three were its largest gain
        "# Each model trains from one start; seeds = 3 under [run] averages three, in about 3x the training: on trials'",
        "# hidden rows a 9-class log loss 0.4852 -> 0.4728, an accuracy 0.8145 -> 0.8161, another 0.93582 -> 0.93565.",
    ]
    inputs = len(train.columns) - 1 - (len(target) if multilabel else 1) + (row_ids is not None)  # less id, target
    if inputs >= WIDE_COLUMNS:
        lines += [
            f"hidden = {{ nn = [{WIDE_HIDDEN}], deep = [{WIDE_HIDDEN}, {WIDE_HIDDEN}] }}  # {inputs:,} input columns: "
            "32 units a layer left a 784-pixel digit set at 0.9879, 128 with lr 0.001 0.9951",
            f"lr = {WIDE_LR}  # with {WIDE_HIDDEN} units lr 0.01 peaked by epoch 10 (nn 0.9835); 0.001 kept improving",
        ]
    if len(train) <= FEW_ROWS:
        lines.append(
            f"epochs = {FEW_ROWS_EPOCHS}  # {len(train):,} rows are 1-4 steps an epoch: 100 epochs left the linear model "
            "short (house prices' RMSLE 0.1090 -> 0.1054); the nets still stop where CV says"
        )
    if METRICS[metric].loss == "mae":
        lines += [
            "# Scored by the absolute error: the models learn it too (squared error chases the outliers it forgives;",
            "# a user's trial with outliers: 4.7033 -> 4.6632).",
            'loss = "mae"  # mean absolute error, '
            + ("the metric" if metric == "mae" else f"closer to {metric}")
            + ", rather than squared error",
        ]
    if kind == "regression" and metric in SQUARED and (skews := _skewed_target(train[target])):
        skewed = f"{target} is 0 or more and right-skewed (skewness {skews[0]:.1f}, {skews[1]:.1f} in logs)."
        trials = (
            "Learned in logs and scaled back to the mean, trials gained where errors grow with the target (used-car "
            "prices' RMSE 82,048 -> 81,873, hourly counts' 43.59 -> 43.28) and lost where they keep one size (826 -> "
            "1,039)."
        )
        chosen = False
        if train[target].notna().sum() < LOG_MIN_ROWS:
            said = f"{skewed} {trials} Too few rows to tell which here: try it, and keep it if CV improves:"
        else:
            multiply, errors = _logs_test(train, target, id_col)
            chosen = multiply > 0 and errors >= -LOG_ERRORS
            found = (
                "effects that multiply and errors that grow with the target. Drop it if CV falls:"
                if chosen  # otherwise effects that add, errors of one size, or both: the shares cannot tell which
                else f"not both effects that multiply (the first less) and errors that grow (the second at most "
                f"{LOG_ERRORS:.0%} more). Try it, and keep it if CV improves:"
            )
            said = (
                f"{skewed} {trials} Fitted on half the rows and scored on the other, both ways, effects added in logs "
                f"left {_share(multiply)} error than effects added on the values, and {_share(errors)} than the same "
                f"effects fitted to the values: {found}"
            )
        lines += [f"# {line}" for line in textwrap.wrap(said, 114, break_on_hyphens=False)]
        lines.append(
            ("" if chosen else "# ")
            + "log_target = true  # the models learn log(1 + target); values scaled by a factor chosen on the folds"
        )
    training_end = len(lines)  # where refit's lines go once the recipe has said whether the split is by time
    from kit.values import FALSE, TRUE

    # target_mean counts True/1/yes as the positive class; other labels are named in its table
    flags = all(v.lower() in TRUE | FALSE for v in values)
    positive = values[-1] if kind == "binary" and not flags else None
    # an original set's gaps are filled too, so the draft runs once its extra line is uncommented (cirrhosis.csv
    # has "NA"s in columns train and test fill in every row)
    extra = [
        _read(p, low_memory=False).rename(columns=by_name | by_place)
        for p, (by_name, by_place) in _extra_files(files, data_dir, train, id_col, target).items()
    ]
    recipe, left_out, told = _recipe(train, test, id_col, target, files, kind, positive, metric, extra)
    by_time = any(line.startswith(TIME_LINE) for line in recipe)
    lines[training_end:training_end] = REFIT_BY_TIME if by_time else REFIT
    lines += ["", *recipe]
    notes += [f"{col} is left out of the recipe: {why}" for col, why in left_out] + told
    return "\n".join(lines) + "\n", notes


# The submission from the CV's fold models (their test predictions averaged) or from every model trained again on
# all rows: measured on the hidden test rows of ten sets (eight new users' trials and two synthetic sets, 1,460 to
# 200,000 training rows; each set's definition and CV the same both ways), the fold models scored better in all ten,
# and nothing trains after the CV.
REFIT = [
    "# The CV's fold models, their test predictions averaged, scored better on hidden test rows than the same models",
    "# trained again on every row in ten sets of ten (ROC AUC 0.8916 -> 0.8919 and 0.8962 -> 0.8965, MAP@3 0.3823 ->",
    "# 0.3829, qwk 0.8168 -> 0.8184, log loss 1.6102 -> 1.6093, RMSLE 0.0721 -> 0.0710 and 0.1104 -> 0.1093, RMSE",
    "# 45.02 -> 44.96 and 84,323 -> 84,312, MAE 1.4394 -> 1.4384), and nothing trains after the CV.",
    "refit = false  # the submission averages the fold models' predictions; true trains every model again on all rows",
]
# A time split's fold models never learn from its last block of dates, which the full fit does: refit stays.
REFIT_BY_TIME = [
    "refit = true  # the submission's models trained again on every row: the fold models of a time split never learn"
    " from its latest dates",
]
TIME_LINE = "time = "  # how a drafted [validation] table names a time split: see _recipe


def _unlabelled_groups(train, test, unlabelled, skip: list) -> tuple[int, str] | None:
    """Where the training rows without a target fall, when most of them are nearly the whole of a few groups of
    category levels (a series never recorded: every sale of one product in one country's store), said as
    (5,028, "nearly all the rows of 2 groups of country, store, product: ..."): those groups' test rows (counted) are
    predicted from other groups' rows, which the user should know before trusting them. None when they fall nowhere in
    particular. The fewest columns that say it are used, of the first UNLABELLED_COLUMNS categories."""
    import numpy as np
    import pandas as pd

    columns = [
        c for c in train.columns
        if c not in skip and c in test.columns  # a group's test rows are counted
        and not pd.api.types.is_numeric_dtype(train[c]) and 2 <= train[c].nunique() <= MAX_LEVELS
    ][:UNLABELLED_COLUMNS]  # fmt: skip
    codes = {c: train[c].factorize()[0] for c in columns}  # -1 for a gap: its own group below
    n_unlabelled = int(unlabelled.sum())
    for k in range(1, len(columns) + 1):
        for chosen in itertools.combinations(columns, k):
            group = np.zeros(len(train), dtype=np.int64)
            for c in chosen:  # one number per combination of levels
                group = group * (codes[c].max() + 2) + codes[c] + 1
            ids, first, group = np.unique(group, return_index=True, return_inverse=True)  # first: a row of each
            rows = np.bincount(group, minlength=len(ids))
            without = np.bincount(group, weights=unlabelled, minlength=len(ids))
            mostly = np.flatnonzero((without >= UNLABELLED_MOSTLY * rows) & (rows >= RARE_BELOW))
            if not len(mostly) or without[mostly].sum() < n_unlabelled / 2:
                continue
            mostly = mostly[np.argsort(-without[mostly], kind="stable")]
            levels = train.iloc[first[mostly]][list(chosen)]  # each group's levels, one row a group
            named = []
            for g, row in zip(mostly[:3], levels.itertuples(index=False)):
                said = ", ".join("a gap" if pd.isna(v) else str(v) for v in row)
                named.append(f"{said} ({int(without[g]):,} of its {int(rows[g]):,} rows)")
            more = f" and {len(mostly) - 3:,} more" if len(mostly) > 3 else ""
            in_test = len(test[list(chosen)].merge(levels, on=list(chosen)))  # a gap meets a gap, as in the groups
            whose = (
                f"whose {in_test:,} test row{'s are' if in_test > 1 else ' is'} predicted from other groups' rows"
                if in_test
                else "of no test row"
            )
            return int(without[mostly].sum()), (
                f"nearly all the rows of {len(mostly):,} group{'s' if len(mostly) > 1 else ''} of "
                f"{', '.join(chosen)}: {'; '.join(named)}{more}, {whose}"
            )
    return None


def _extra_files(files: dict, data_dir: Path, train, id_col: str, target) -> dict[Path, tuple[dict, dict]]:
    """The other CSVs of data_dir that hold the target and most of train's feature columns under train's names, or
    names that differ but for case, spaces and punctuation (an original set), each with the columns it names
    otherwise, by name and by place (theirs -> train's, _paired_columns)."""
    targets = target if isinstance(target, list) else [target]
    features = [c for c in train.columns if c != id_col and c not in targets]
    found = {}
    for path in sorted(Path(data_dir).glob("*.csv")):
        if path.name in files.values():
            continue
        header = [str(c) for c in _read(path, nrows=0).columns]
        by_name, by_place = _paired_columns(header, features, targets, id_col)
        named = {by_name.get(c, c) for c in header}
        if set(targets) <= named and 2 * sum(c in named for c in features) > len(features):
            found[path] = by_name, by_place
    return found


def _squeezed(name: str) -> str:
    """A column name without case, spaces or punctuation: Whole_weight and "Whole weight" read alike."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def _paired_columns(header: list[str], columns: list[str], targets: list[str], id_col: str) -> tuple[dict, dict]:
    """An extra file's columns that are train's under another name, theirs -> train's, in two dicts: by name, the
    one that is train's name but for case, spaces and punctuation (Whole_weight for "Whole weight"); by place, where
    the two files list as many feature columns, a column left unpaired in the same place as one of train's (an
    original set's Shucked_weight where the competition writes "Whole weight.1")."""
    wanted = [*columns, *targets]
    theirs = [c for c in header if c not in wanted and c != id_col]
    by_name = {}
    for ours in (c for c in wanted if c not in header):
        same = [t for t in theirs if _squeezed(t) == _squeezed(ours) and t not in by_name]
        if len(same) == 1:
            by_name[same[0]] = ours
    their_columns = [c for c in header if c != id_col and by_name.get(c, c) not in targets]
    by_place = {}
    if len(their_columns) == len(columns):
        taken = {*header, *by_name.values()}
        for t, ours in zip(their_columns, columns, strict=True):
            if t in theirs and t not in by_name and ours not in taken:
                by_place[t] = ours
    return by_name, by_place


def _extra_lines(files: dict, data_dir: Path, train, id_col: str, target, kind: str) -> list[str]:
    """Commented [files] extra (and [extra] columns and labels) for the other CSVs of data_dir that hold the target
    and most of train's feature columns, such as the original dataset a Playground competition was made from:
    adding its rows is the user's call. Columns it names otherwise are paired with train's (_paired_columns). Its
    labels are drafted when its target's values differ from train's and pair with them one-to-one in sorted order;
    otherwise a comment says to write them."""
    found = _extra_files(files, data_dir, train, id_col, target)
    if not found:
        return []
    names = [p.name for p in found]
    lines = [
        f"# {', '.join(names)} {'hold' if len(names) > 1 else 'holds'} the target and train's columns, like the set a "
        "Playground competition",
        "# is made from: uncomment to train on its rows too (in every fold's training rows, never validated);",
        # the user's call, told what trials measured: a gain on the hidden rows that CV called noise (horse outcomes
        # 0.6262 -> 0.6420, CV "within noise"; loans 0.86401 -> 0.86472) and losses (cirrhosis, abalone)
        "# on trials' hidden rows such rows helped three sets of seven and cost two, often where CV called the move",
        "# noise: run a CV without them, then one with them, whose `against the last CV` counts the folds each way;",
        '# on Kaggle such a set is a dataset: [extra] dataset = "owner/name" downloads it with the competition\'s '
        "files and attaches it to a notebook",
        f"# extra = {_list(names)}",
    ]
    by_name = {theirs: ours for pairs, _ in found.values() for theirs, ours in pairs.items()}
    by_place = {theirs: ours for _, pairs in found.values() for theirs, ours in pairs.items() if theirs not in by_name}
    order = [str(c) for p in found for c in _read(p, nrows=0).columns]
    renamed = {theirs: (by_name | by_place)[theirs] for theirs in dict.fromkeys(order) if theirs in by_name | by_place}
    writes = f"{', '.join(names)} write{'' if len(names) > 1 else 's'}"
    table = []
    if renamed:
        how = ", and ".join(
            [*(["by name"] if by_name else []), *([f"{', '.join(by_place)} by place in the file"] if by_place else [])]
        )
        table = [
            f"# [extra]  # {writes} {len(renamed)} of train's columns under other names,",
            f"# paired {how}: check them",
            f"# columns = {_table(renamed)}",
        ]
    if kind == "regression" or isinstance(target, list):
        return lines + table
    theirs_target = {ours: theirs for theirs, ours in renamed.items()}.get(target, target)
    ours = sorted({_text(v) for v in train[target].dropna()})
    theirs = sorted(
        {_text(v) for p in found for v in _read(p, usecols=[theirs_target], low_memory=False)[theirs_target].dropna()}
    )
    if set(theirs) <= set(ours):
        return lines + table
    section = table or ["# [extra]"]
    if len(theirs) == len(ours):
        return (
            lines
            + section
            + [
                f"# {writes} {target} as {', '.join(theirs)}, train as {', '.join(ours)}: paired in sorted order, so "
                "check them",
                f"# labels = {_table(dict(zip(theirs, ours)))}",
            ]
        )
    return (
        lines
        + section
        + [
            f"# {writes} {target} as {', '.join(theirs[:10])}, train as {', '.join(ours[:10])}: write which of train's "
            "values each is",
            '# labels = { THEIRS = "TRAINS" }',
        ]
    )


def _long_tailed(series, n_distinct: int) -> bool:
    """Whether numbers of 0 or more are long-tailed (see SKEWED): log(1 + x) spreads them out. Where 0 is the
    median, the values above it tell."""
    if series.median() == 0 and (series > 0).any():
        series = series[series > 0]
        n_distinct = series.nunique()
    return bool(
        series.quantile(0.99) > 20 * (series.median() + 1)
        or n_distinct > CODES[-1]
        and series.skew() > SKEWED  # amounts: a rare 1 in a flag is skewed too
    )


def _logs_fit(series, log_y) -> bool:
    """Whether a log target (rmsle's) follows a number's log(1 + x) more closely than the number: a straight line
    through it leaves LOG_FIT less of the target's variance unexplained or better, as a price's through a floor
    area's (an area's doubling adds a share of the price, not an amount)."""
    import numpy as np

    known = series.notna().to_numpy() & np.isfinite(log_y)  # (rows,)
    x, y = series.to_numpy(dtype=float)[known], log_y[known]
    if len(x) < 3 or x.std() == 0 or y.std() == 0:
        return False
    plain, logged = (1 - float(np.corrcoef(v, y)[0, 1]) ** 2 for v in (x, np.log1p(x)))  # the shares left
    return logged <= (1 - LOG_FIT) * plain


def _clipped_plain(series, distinct) -> bool:
    """Whether a long tail is a few outliers alone: the numbers kept within CLIP's quantiles are not long-tailed."""
    if not _outliers(series):
        return False
    low, high = series.quantile(CLIP[0]), series.quantile(CLIP[1])
    return not _long_tailed(series.clip(low, high), len(distinct))


def _outliers(series) -> bool:
    """Whether a number column holds values further past its 1 % and 99 % quantiles than OUTLIER_SPREAD times
    the distance between them (see OUTLIER_SPREAD)."""
    values = series.dropna()
    low, high = values.quantile(CLIP[0]), values.quantile(CLIP[1])
    spread = high - low
    return bool(spread > 0 and max(values.max() - high, low - values.min()) > OUTLIER_SPREAD * spread)


def _task_and_metric(values: list[str], columns: list[str], target: str, metric, files: dict, data_dir: Path):
    """(task, metric, what decided the task, the metrics that fit) from the target's values, the sample
    submission and the metric given (None: guess one)."""
    kind, why = infer_task(values), f"guessed from the target's {len(values)} distinct values"
    per_class = len(columns) > 2  # the sample submission has one probability column per class
    if per_class:
        kind, why = "multiclass", "the sample submission has one probability column per class"
        if classes_of_columns(columns[1:], values) is None and not unseen_classes(columns[1:], values):
            raise KitError(
                f"the sample submission's columns after the id ({', '.join(columns[1:])}) name neither the values of "
                f"{target} ({', '.join(values[:10])}) nor those values after one shared prefix; write the definition "
                "by hand."
            )
    elif metric in METRICS and kind not in METRICS[metric].tasks and len(values) > 2:
        # a rating of 1 to 10 scored by rmse is a regression; 25 classes scored by accuracy are classes
        numeric = all(is_number(v) for v in values)
        kind = "regression" if "regression" in METRICS[metric].tasks and numeric else "multiclass"
        why = f"the task {metric} scores"
    if (kind == "multiclass" and not per_class) or (
        kind == "regression" and metric and METRICS[metric].submits == "label"
    ):
        _refuse_amounts(values, target, metric)  # qwk of a regression: whole numbers, a rating's
    if metric is None and per_class:
        metric = "log_loss"
    elif metric is None and kind == "binary" and _sample_holds_probabilities(files, data_dir, values):
        metric = "roc_auc"  # its example predictions are probabilities, not labels
    elif metric is None and kind == "multiclass" and _sample_holds_ranked(files, data_dir, values):
        metric = "map_at_3"  # its example cells name several labels, best first: "14-35-14 10-26-26 Urea"
    metric = metric or default_metric(kind)
    if metric not in metrics_for(kind):
        raise KitError(f"metric {metric} does not score a {kind} task; choose one of {', '.join(metrics_for(kind))}.")
    refuse_spaced_labels(metric, values)
    # a sample submission with a column per class needs a metric scored on probabilities
    choices = [m for m in metrics_for(kind) if METRICS[m].submits == "probability" or not per_class]
    if metric not in choices:
        raise KitError(
            f"the sample submission has one column per class, which metric {metric} does not fill (it writes "
            f"one label); choose one of {', '.join(choices)}."
        )
    if kind == "multiclass" and METRICS[metric].submits == "probability" and not per_class:
        # Kaggle reads the sample's columns: a probability per class would not fit its one label column
        labels = [m for m in metrics_for(kind) if METRICS[m].submits != "probability"]
        raise KitError(
            f"the sample submission has one column for {target}, a label, where metric {metric} scores a "
            f"probability per class; choose one of {', '.join(labels)}, or check the metric on the competition's "
            "Evaluation page."
        )
    return kind, metric, why, choices


def _ordinal_alternative(kind: str, metric: str, values: list[str]) -> list[str]:
    """A commented task line for a rating (classes that are whole numbers) scored by a metric of ordered classes:
    learned as a number and rounded, a miss costs the models its squared distance, as it costs qwk."""
    if kind != "multiclass" or not METRICS[metric].ordered or not all(_whole(v) for v in values):
        return []
    return [
        f'# task = "regression"  # or learn the rating as a number, cut into whole ones for {metric} (then drop '
        "[submission] labels): on five synthetic wine-quality sets (ratings 3-8, 2,056 rows), both rounded, the "
        "ensemble's CV rose 0.005 to 0.024, its test score -0.012 to +0.017"
    ]


def _whole(text: str) -> bool:
    return is_number(text) and math.isfinite(float(text)) and float(text).is_integer()


def _multilabel_metric(targets: list[str], metric: str | None):
    """(task, metric, what decided the task, the metrics that fit) of a multilabel draft: the metric given,
    else roc_auc (a guess: Kaggle's multi-target competitions are mostly scored by the mean column-wise AUC)."""
    choices = metrics_for("multilabel")
    if metric is not None and metric not in choices:
        raise KitError(f"metric {metric} does not score a multilabel task; choose one of {', '.join(choices)}.")
    why = f"the sample submission names {len(targets)} two-valued columns of train"
    return "multilabel", metric or default_metric("multilabel"), why, choices


def _skewed_target(target) -> tuple[float, float] | None:
    """(the skewness of a regression target, that of its logarithm) when it is 0 or more and right-skewed, its
    logarithm less so (see TARGET_SKEWED); None otherwise."""
    import numpy as np

    y = target.dropna().astype(float)
    if y.empty or y.min() < 0:
        return None
    skew, log_skew = float(y.skew()), float(np.log1p(y).skew())
    return (skew, log_skew) if skew > TARGET_SKEWED and abs(log_skew) < skew else None


def _refuse_amounts(values: list[str], target: str, metric: str | None) -> None:
    """Refuse to draft as classes a target whose values are clearly not: numbers with fractions (which kit's
    own guess reads as a regression), or more distinct values than any classification has (MAX_CLASSES)."""
    numeric = all(is_number(v) for v in values)
    fractions = numeric and any(not float(v).is_integer() for v in values)
    if not fractions and len(values) <= MAX_CLASSES:
        return
    what = f"{target} holds {len(values):,} distinct " + ("numbers with fractions" if fractions else "values")
    scorer = f"metric {metric}" if metric else "a classification metric"
    if numeric:
        regression = ", ".join(m for m in metrics_for("regression") if METRICS[m].submits == "value")
        raise KitError(
            f"{what}, amounts rather than classes, which {scorer} cannot score; choose a regression metric "
            f"({regression}) instead."
        )
    raise KitError(f"{what}, more than any classification has classes; write the definition by hand.")


def _submission_columns(files: dict, data_dir: Path, train, test):
    """(submission columns, id column, target column or, multilabel, columns, the first row number when train and test
    have no id column and the sample submission numbers the test rows instead, else None) from the sample
    submission, else from train vs test."""
    only_in_train = [c for c in train.columns if c not in test.columns]
    row_ids = None
    if "sample_submission" in files:
        columns = list(_read(Path(data_dir) / files["sample_submission"], nrows=0).columns)
        id_col = columns[0]
        target = columns[1] if len(columns) == 2 else (only_in_train[0] if len(only_in_train) == 1 else None)
        if isinstance(target, str) and target not in train.columns:  # the sample's Label for train's label
            target = next((c for c in only_in_train if str(c).lower() == target.lower()), target)
        if len(columns) > 2 and all(c in train.columns and train[c].nunique() == 2 for c in columns[1:]):
            target = columns[1:]  # each a yes/no target of train: a multilabel task
        elif target is None and len(columns) > 2:
            # several columns only in train: the target is the one whose values the sample's columns name, a class
            # each (a trial's crime Category, beside its Descript and Resolution, which only the training rows hold)
            named = set(map(str, columns[1:]))
            target = next((c for c in only_in_train if set(train[c].dropna().map(str)) <= named), None)
        if id_col not in train.columns and id_col not in test.columns:
            row_ids = _row_numbers(Path(data_dir) / files["sample_submission"], id_col, len(test))
    else:
        id_col = train.columns[0]
        target = only_in_train[0] if len(only_in_train) == 1 else None
        columns = [id_col, target]
    if target is None or (isinstance(target, str) and target not in train.columns):
        raise KitError(
            f"cannot tell the target column of {files['train']} (columns only in train: {only_in_train}); "
            "write the definition by hand."
        )
    if row_ids is None and (id_col not in train.columns or id_col not in test.columns):
        numbered = " and the sample's ids are not the test rows' numbers" if id_col not in test.columns else ""
        if id_col in test.columns:  # a trial's crimes: Id numbered the test rows, and train had no id at all
            numbered = f"; {files['train']} has none: number its rows in a column {id_col} (ids no test row holds)"
        raise KitError(f"the id column {id_col} is not in both {files['train']} and {files['test']}{numbered}.")
    return columns, id_col, target, row_ids


def _row_numbers(path: Path, id_col: str, test_rows: int) -> int | None:
    """The first of the sample submission's ids when they number the test rows in order (0, 1, 2, ... or 1, 2, 3,
    ...), one per row of the test file; else None."""
    import numpy as np

    ids = _read(path, usecols=[id_col], dtype=str)[id_col]
    for start in (1, 0):
        if len(ids) == test_rows and (ids.to_numpy() == np.arange(start, start + test_rows).astype(str)).all():
            return start
    return None


def _sample_holds_probabilities(files: dict, data_dir: Path, labels: list[str]) -> bool:
    """Whether the sample submission's prediction column holds numbers in [0, 1] that are not the labels."""
    import pandas as pd

    if "sample_submission" not in files:
        return False
    sample = _read(Path(data_dir) / files["sample_submission"], nrows=1000, dtype=str)
    cells = set(sample.iloc[:, -1].dropna())
    numbers = pd.to_numeric(pd.Series(sorted(cells)), errors="coerce")
    return bool(cells) and not cells <= set(labels) and bool(numbers.between(0, 1).all())


def _sample_one_label(files: dict, data_dir: Path, labels: list[str]) -> str | None:
    """The one value the sample submission's prediction column holds in every row, where it is one of the labels and
    a number (0 or 1: a label, or a probability written whole); else None."""
    if "sample_submission" not in files:
        return None
    sample = _read(Path(data_dir) / files["sample_submission"], nrows=1000, dtype=str)
    cells = set(sample.iloc[:, -1].dropna())
    return next(iter(cells)) if len(cells) == 1 and cells <= set(labels) and is_number(next(iter(cells))) else None


def _sample_holds_ranked(files: dict, data_dir: Path, labels: list[str]) -> bool:
    """Whether the sample submission's prediction column holds labels of the target separated by spaces, up to
    RANKED of them and more than one in some cell: a ranking, as MAP@3 scores."""
    if "sample_submission" not in files:
        return False
    sample = _read(Path(data_dir) / files["sample_submission"], nrows=1000, dtype=str)
    named = [cell.split(" ") for cell in set(sample.iloc[:, -1].dropna())]
    known = set(labels)
    fits = all(1 <= len(n) <= RANKED and set(n) <= known for n in named)
    return bool(named) and fits and any(len(n) > 1 for n in named)


def _recipe(
    train,
    test,
    id_col: str,
    target: str,
    files: dict,
    kind: str,
    positive: str | None = None,
    metric: str = "",
    extra: list | None = None,
):
    """(the [recipes.base] table, one step per line, from the type of each input column; the columns left
    out because they hold no value to learn from or to apply to, each with why; notes on the columns whose
    draft needs a look: numbers with a few tokens, and categories with many levels). `extra`: the frames of the
    original sets drafted as extra, whose gaps are filled as train's and test's are."""
    import numpy as np
    import pandas as pd

    from kit.values import as_number

    numeric, one_hot, codes, flags, fill_mode, log1p, rare, skipped, empty = [], [], [], [], [], {}, {}, [], []
    clip = {}  # column -> the quantiles its numbers are kept within
    number = {}  # column -> the number step's table that reads it (kit.values.as_number)
    gap_flags = {}  # new column -> the number column whose gaps it flags
    dates, fill_median, fill_constant, many, rates, counted = {}, [], {}, {}, {}, {}
    extra_gaps = []  # columns whose only gaps are in the extra files' rows
    text_alone = False  # a text column is nearly all the input (TEXT_INPUTS): its words are drafted richer
    words = {}  # free-text column -> how many of its words become flags
    # a target_mean's options by the task: the positive label (binary), one rate per class (multiclass)
    classes = sorted({_text(v) for v in train[target].dropna()}) if kind == "multiclass" else []
    option = f", positive = {json.dumps(positive)}" if positive is not None else ""
    if kind == "regression" and metric == "rmsle":
        option = ", log1p = true"  # the mean on the scale the models learn (log(1 + y)) and the metric scores
    elif kind == "regression" and _skewed_target(train[target]):
        # a skewed target's few large values pull a group's mean far more than its log's: a trial's 150,000 used-car
        # prices (rmse, models on the values) 82,243 -> 82,048 CV, hidden rows' 84,492 -> 84,322
        option = ", log1p = true"
    option += f", classes = {_list(classes)}" if classes else ""
    ambiguous = {}  # column -> the date forms that all read it
    unordered = []  # whole numbers of many values drafted as codes because their target mean says so (_unordered)
    flat_levels = []  # categories of many levels left out: their target means hardly differ beyond chance
    stepped = []  # numbers with fractions but few values, one-hot: the target jumps between them (see LINE_LEFT)
    repeats = {}  # numbers with fractions that also get their values' rate: column -> (values, rows a value)
    lined = []  # whole numbers of few values drafted as numbers because their target mean says so (_along)
    flat = []  # ... because the target barely moves along them (_along)
    sparse = []  # ... because all their values but one are rare (_one_common)
    pooled = []  # whole numbers of few values drafted one-hot whose values but one are rare: in effect a flag
    stray = {}  # column -> its distinct values, of which a few levels hold nearly every row (_stray_values)
    log_fits = []  # numbers drafted as logs because rmsle's logged target follows their logarithm (_logs_fit)
    telling = []  # numbers of fewer gaps than GAP_FLAG_ROWS flagged because the gaps move the target (_gaps_tell)
    y = _target_numbers(train[target], kind, positive)  # (rows,), (rows, classes) or None
    if kind == "regression" and metric == "rmsle":
        y = np.log1p(y)  # (rows,) what the models learn and the metric scores: the target moves along this
    splits = _compounds(train, test, id_col, target)  # column -> (sep, its parts' names)
    train, test, extra = _with_parts(train, test, extra or [], splits)
    for col in train.columns:
        if col in (id_col, target) or col not in test.columns or col in splits:
            continue
        series = train[col]
        # A column with no value in test would give every test row the training mode; none in train, nothing
        no_value = [files[role] for frame, role in ((train, "train"), (test, "test")) if frame[col].isna().all()]
        if no_value:
            empty.append((col, f"it has no value in {' or '.join(no_value)}"))
            continue
        form = None if pd.api.types.is_numeric_dtype(series) else _number_form(series, test[col])
        if form:  # numbers written with separators, or with a few tokens for gaps: read as numbers
            number[col] = form
            series = as_number(series, col, **form)
        gaps = bool(series.isna().any() or test[col].isna().any())
        if not gaps and any(col in frame and frame[col].isna().any() for frame in extra or ()):
            gaps = True  # the extra rows' alone: the fill's comment says so (a trial read them as train's)
            extra_gaps.append(col)
        distinct = series.dropna().unique()
        median = False  # gaps take the median (numbers with fractions) rather than the mode
        if len(distinct) <= 1 and not gaps:  # the same in every row: a feature no model can learn from
            skipped.append(f"{col} (one value)")
            continue
        # two values' texts alone: every value of a 300,000-row column of fractions as text took 1 s a column
        if pd.api.types.is_bool_dtype(series) or (len(distinct) == 2 and {str(v).lower() for v in distinct} <= FLAGS):
            flags.append(col)
            numeric.append(col)
        elif pd.api.types.is_numeric_dtype(series) and not (
            _code_numbers(col, distinct) or _unordered(col, series, distinct, y, unordered)
        ):
            if len(distinct) <= 1:
                skipped.append(f"{col} (one value)")
                continue
            whole = bool((distinct % 1 == 0).all())
            along = _along(series, y) if len(distinct) in CODES else None
            if not whole and along != "codes":
                along = (
                    None  # fractions of few values stay numbers unless the target jumps between them (see LINE_LEFT)
                )
            if along == "line":
                numeric.append(col)  # a count or a score: its target mean follows a line (see LINE_VALUES)
                lined.append(col)
            elif along == "flat":
                numeric.append(col)  # the target barely moves along it: one-hot would spend a feature a value on noise
                flat.append(col)
            elif along is None and len(distinct) in CODES and whole and _one_common(series):
                numeric.append(col)  # one-hot would pool every value but one: one 0/1 feature (see LINE_VALUES)
                sparse.append(col)
            elif len(distinct) in CODES and (whole or along == "codes"):
                # whole numbers with few values: codes, not amounts (see CODES); or, when every value but one is rare
                # (a pool's area: 0, or one of a few sizes held once each), one_hot's pooling makes a flag of them
                pooled_all = int((series.value_counts() >= RARE_BELOW).sum()) <= 1
                (pooled if pooled_all else codes if whole else stepped).append(col)
                one_hot.append(col)
                if (series.value_counts() < RARE_BELOW).any():
                    rare[col] = RARE_BELOW
            elif series.min() >= 0 and (
                (tailed := _long_tailed(series, len(distinct)) and not _clipped_plain(series, distinct))
                or (metric == "rmsle" and len(distinct) > CODES[-1] and _logs_fit(series, y))
            ):
                log1p[f"Log{col}"] = col  # long-tailed, like money, or the logged target follows its logarithm
                if not tailed:
                    log_fits.append(col)
                numeric.append(f"Log{col}")
                median = not (distinct % 1 == 0).all() or len(distinct) > max(CODES)
            else:
                numeric.append(col)
                median = not (distinct % 1 == 0).all() or len(distinct) > max(CODES)
                if _outliers(series):
                    clip[col] = CLIP
            if not (distinct % 1 == 0).all() and (found := _repeats_apart(series, y)):
                repeats[col] = found
                rates[_new_name(f"{col}_rate", train.columns)] = col  # with the prior weight found (below)
        elif forms := _date_forms(distinct):
            drafted = (*DATE_PARTS, TIME_PART) if _hours_differ(distinct, forms[0]) else DATE_PARTS
            dates[col] = drafted if forms[0] == "" else {"parts": drafted, "format": forms[0]}
            if len(forms) > 1:  # days all 12 or less: 03/04 is the 3rd of April or the 4th of March
                ambiguous[col] = forms
            parts = [f"{col}_{p}" for p in drafted]
            numeric += parts
            if gaps:
                fill_mode += parts  # the parts are whole numbers, codes of a kind
            continue
        elif len(distinct) <= MAX_LEVELS:  # text, or whole numbers named as codes (CODE_NAME): levels
            one_hot.append(col)
            counts = series.value_counts()
            if (counts < RARE_BELOW).any():
                rare[col] = RARE_BELOW
            if gaps:
                fill_constant[col] = _missing_level({str(v) for v in distinct})
            continue
        elif stray_below := _stray_values(series):  # a few levels and typing slips: see STRAY_SHARE
            one_hot.append(col)
            rare[col] = stray_below
            stray[col] = len(distinct)
            if gaps:
                fill_constant[col] = _missing_level({str(v) for v in distinct})
            continue
        elif _many_levels(series):
            many[col] = len(distinct)
            shared = (series.value_counts() >= MANY_RARE_BELOW).sum() >= 2
            if _levels_flat(series, y):  # its rate would be noise: left out, its line commented (see LEVELS_FLAT)
                flat_levels.append(col)
            elif kind == "binary" or (shared and kind in ("multiclass", "regression")):  # its target rate (SHARED_ROWS)
                rates[_new_name(f"{col}_rate", train.columns)] = col
            elif shared:
                rare[col] = MANY_RARE_BELOW
            else:  # every level but one would be pooled: one-hot would make one constant; its count is a feature
                counted[_new_name(f"{col}_count", train.columns)] = col
            continue
        elif not pd.api.types.is_numeric_dtype(series) and _wordy(series):
            inputs = sum(c not in (id_col, target) and c in test.columns and c not in splits for c in train.columns)
            text_alone = inputs <= TEXT_INPUTS  # the text nearly all the input: its rarer words too (TEXT_INPUTS)
            words[col] = _word_count(series, text_alone)  # free text: a flag per common word
            continue
        else:
            skipped.append(
                f"{col} ({len(distinct)} distinct {'codes' if pd.api.types.is_numeric_dtype(series) else 'texts'})"
            )
            continue
        if gaps:
            (fill_median if median else fill_mode).append(col)
            amount = col in numeric or f"Log{col}" in numeric  # a number, not a code one-hot (its gap is a level)
            if amount and series.isna().mean() >= GAP_FLAG_ROWS:
                gap_flags[_new_name(f"{col}_missing", train.columns)] = col
            elif amount and _gaps_tell(series, y):
                gap_flags[_new_name(f"{col}_missing", train.columns)] = col
                telling.append(col)
    # the file's own columns (a date's parts and a code's pieces are made from one: their gaps are its gaps); those
    # of few gaps flagged for what theirs tell are counted still, as before (GAP_COUNT)
    flagged = set(gap_flags.values()) - set(telling)
    unflagged = [col for col in fill_median + fill_mode if col in train.columns and col not in flagged]
    if len(unflagged) >= 2 and _along(train[unflagged].isna().sum(axis=1), y) in ("line", "codes"):
        # the count says what their gaps tell: a survey's 40 columns, whose count drives the target, each passed GAP_Z
        gap_flags = {new: col for new, col in gap_flags.items() if col not in telling}
        gap_flags[_new_name("missing_count", train.columns)] = tuple(unflagged)  # see GAP_COUNT
    numeric += list(gap_flags)
    lines = ["# The starting recipe: every input column by its type. `kit recipe show` prints what it makes."]
    if skipped:
        lines.append(f"# Not used: {', '.join(skipped)}; `extract` or `split` can turn text into features.")
    told = []  # notes for the user, one sentence each
    for col, (sep, names) in splits.items():
        told.append(f"{col} holds codes of {len(names)} parts split by {sep}: drafted as {', '.join(names)} (`split`)")
    for col in train.columns:
        if col in (id_col, target) or col not in test.columns or col in number:
            continue
        if pd.api.types.is_numeric_dtype(train[col]) or not (units := _unit_numbers(train[col])):
            continue
        news = {u: _new_name(f"{col}_{u}", train.columns) for u in units}
        seen = ", ".join(f"{ex} in {share:.0%}" for ex, share in units.values())
        pulls = ", ".join(
            f"{new} = {{ from = {json.dumps(col)}, pattern = '(\\d+(?:\\.\\d+)?){u}\\b' }}" for u, new in news.items()
        )
        lines += [
            f"# {col} holds numbers with a unit in its text ({seen} of rows); as numbers (a row without one a gap):",
            f"# extract = {{ {pulls} }}",
            f"# fill_median = {_list(list(news.values()))}, is_missing for its gaps, and each in numeric.",
        ]
        told.append(f"{col} holds numbers with units ({', '.join(units)}): its comment says how to extract them")
    for col in [*one_hot, *many]:
        if col in splits or pd.api.types.is_numeric_dtype(train[col]) or not (frame := _framed_number(train[col])):
            continue
        new = _new_name(f"{col}_number", train.columns)
        # the words around the number, escaped; a space kept plain where re.escape writes "\\ "
        pattern = "(\\d+)".join(re.escape(words).replace("\\ ", " ") for words in frame[:2])
        example = f"{frame[0]}{frame[2]}{frame[1]}"
        lines += [
            f"# {col} is a number in the same words ({json.dumps(example)}); its order is a feature too, as a number:",
            f"# extract = {{ {new} = {{ from = {json.dumps(col)}, pattern = '{pattern}' }} }}, and {new} in numeric.",
        ]
        told.append(f"{col} is a number in words ({json.dumps(example)}): its comment says how to extract it")
    for col, form in number.items():
        if form.get("missing"):
            tokens = ", ".join(json.dumps(t) for t in form["missing"])
            told.append(f"{col} holds numbers but for {tokens}, drafted as gaps (`number`): check what they mean")
    rated = [col for col in many if col in rates.values()]  # told in one note where there are several
    for col, n in many.items():
        key = "numeric" if col in rates.values() or col in counted.values() else "one_hot"
        if col in unordered:
            lines.append(
                f"# {col} holds whole numbers, but its target mean jumps between neighbouring values as much as "
                "between any two: codes."
            )
        written = "whole numbers named as codes" if pd.api.types.is_numeric_dtype(train[col]) else "short texts"
        like = next(iter(many)) if col != next(iter(many)) else None  # the first lists the steps
        where = None if col in rates.values() else "flat" if col in flat_levels else key
        lines += _category_note(col, n, where, train.columns, option, written, like)
        # a few rows a level for the typical row (not the typical level: 300 rare colours beside 13 common ones
        # are no customer ids): perhaps an id, such as a customer's
        seen = test[col].dropna().isin(set(train[col].dropna())).mean() if test[col].notna().any() else 0.0
        few_a_level = train[col].map(train[col].value_counts()).median() < MANY_RARE_BELOW
        if few_a_level and seen >= SEEN_TEST:
            # the test rows are mostly of the training set's values (Playground's CustomerId): no new customers,
            # so random folds score as the test will and a group split would score it lower than it is
            lines.append(f"# {files['test']}'s rows hold {col} values seen in training ({seen:.0%}): random folds fit.")
        elif few_a_level:
            lines += [
                f"# If the rows of one {col} belong together (a customer, a household), keep them in one fold, as",
                f"# test rows of new ones would be: [validation] group = {json.dumps(col)}.",
            ]
        if col in rates.values() and len(rated) > 1:
            if col == rated[0]:
                levels = ", ".join(f"{many[c]:,}" for c in rated[:-1]) + f" and {many[rated[-1]]:,}"
                told.append(
                    f"{', '.join(rated)} look like categories with {levels} levels: drafted as their levels' target rates"
                )
        elif col in rates.values():
            told.append(f"{col} looks like a category with {n:,} levels: drafted as its level's target rate")
        elif col in flat_levels:
            if col == flat_levels[0]:
                names = ", ".join(flat_levels)
                levels = " and ".join(f"{many[c]:,}" for c in flat_levels) if len(flat_levels) < 3 else "many"
                told.append(
                    f"{names} {'look like categories' if len(flat_levels) > 1 else 'looks like a category'} with "
                    f"{levels} levels between which the target hardly moves beyond chance: left out (the comment "
                    "says how to try a rate)"
                )
        else:
            told.append(f"{col} looks like a category with {n:,} levels; uncomment its line in {key} to use it")
    for col, forms in ambiguous.items():
        lines.append(f"# {col}'s dates read as {forms[0]} and as {forms[1]} (no day above 12): check which it means.")
        told.append(f"{col}'s dates read both as {forms[0]} and as {forms[1]}; the draft takes {forms[0]}: check it")
    if empty:
        lines.append(f"# Not used, empty: {'; '.join(f'{col} ({why})' for col, why in empty)}.")
    lines.append("[recipes.base]")
    if splits:
        table = _table({col: {"sep": sep, "into": tuple(names)} for col, (sep, names) in splits.items()})
        lines.append(f"split = {table}  # compound codes (such as B/0/P) as their parts, each drafted by its type")
    if dates:
        lines.append(
            f"date = {_table(dates)}  # dates as numbers ({', '.join(DATE_PARTS)}, and the hour where the times "
            "differ; also day, dayofyear, hour, minute, elapsed)"
        )
    if number:
        lines.append(f"number = {_table(number)}  # numbers written with separators, or tokens that mean a gap")
    if gap_flags:
        why = "1 where the number was missing, before the fills"
        counted_gaps = [new for new, source in gap_flags.items() if not isinstance(source, str)]
        if counted_gaps:  # the target moves along the count: say so, as the other drafted lines say why
            why = (f"{why}; " if len(counted_gaps) < len(gap_flags) else "") + (
                f"{counted_gaps[0]}: how many of these columns have a gap in the row (the target moves with it)"
            )
        lines.append(f"is_missing = {_table(gap_flags)}  # {why}")
    if flags:
        lines.append(f"boolean = {_list(flags)}  # True/False (yes/no) columns as 1/0")
    if rare:
        waiting = [col for col in rare if col in many]
        waiting = f" ({', '.join(waiting)}: once in one_hot)" if waiting else ""
        share = " (below 1: this share of the rows)" if any(n < 1 for n in rare.values()) else ""
        lines.append(f"rare = {_table(rare)}  # levels in fewer rows than this{share} share one level{waiting}")
    if clip:
        lines.append(f"clip = {_table(clip)}  # numbers with outliers far past the rest, kept within these quantiles")

    def extra_only(filled) -> str:
        cols = [col for col in filled if col in extra_gaps]
        if not cols:
            return ""
        if len(cols) == len(filled):
            return " (the gaps are in the extra files' rows only)"
        return f" ({', '.join(cols)}: gaps in the extra files' rows only)"

    if fill_constant:
        lines.append(
            f"fill_constant = {_table(fill_constant)}  # gaps in text categories as a level of their own"
            + extra_only(fill_constant)
        )
    if fill_median:
        lines.append(
            f"fill_median = {_list(fill_median)}  # gaps in numbers take the training rows' median"
            + extra_only(fill_median)
        )
    if fill_mode:
        lines.append(
            f"fill_mode = {_list(fill_mode)}  # gaps take the training rows' most common value" + extra_only(fill_mode)
        )
    # a skewed target's rates are means of logs (option): its effects are asked to add there too, where a count's or
    # a price's multiply (a trial's hourly counts: hour x day 1.4 % less loss in values, its CV 43.594 -> 43.613)
    logs = kind == "regression" and metric != "rmsle" and "log1p" in option  # rmsle's y is in logs already
    pairing = np.log1p(y) if logs else y
    if y is not None and (pair := _strongest_pair(train, [*one_hot, *flags], pairing, kind, rare)):
        (a, b), gain = pair
        rates[_new_name(f"{a}_{b}_rate", train.columns)] = [a, b]
        lines.append(
            f"# {a} x {b}: the rates of their pairs differ beyond what the two explain alone (on held-out rows "
            f"{gain:.1%} less loss): drafted as the pair's rate."
        )
        told.append(f"{a} and {b} interact: drafted as their pair's rate (target_mean by both)")
    for col, (values, each, _) in repeats.items():
        lines.append(
            f"# {col}'s exact values repeat ({values:,} values, {each:.0f} training rows each) and its target mean "
            "moves from value to value beyond chance, as where a synthetic set copies an original's rows: drafted as "
            "a number and as its values' rate."
        )
        told.append(f"{col}'s exact values repeat and the target moves between them: drafted as their rate too")
    if rates:
        prior = {col: f", prior_weight = {weight:g}" for col, (_, _, weight) in repeats.items()}
        table = ", ".join(
            f"{toml_key(new)} = {{ by = {_list(by if isinstance(by, list) else [by])}, centre = true"
            f"{prior.get(by, '') if isinstance(by, str) else ''}{option} }}"
            for new, by in rates.items()  # a column, or a pair's list
        )
        what = {"multiclass": "rate of each class", "regression": "mean target"}.get(kind, "rate of the positive class")
        lines.append(f"target_mean = {{ {table} }}  # the level's {what}, never a training row's own label")
    if counted:
        lines.append(f"count = {_table(counted)}  # how many training rows share the level (once in numeric)")
    if log1p:
        # a column logged only because the log target follows its logarithm is no long tail: said so (a trial's
        # Duration, uniform over 1-30 minutes, was called long-tailed)
        tailed = len(log_fits) < len(log1p)
        why = f"; {', '.join(log_fits)}: the log target follows the logarithm more closely" if log_fits else ""
        lines.append(f"log1p = {_table(log1p)}  # {'long-tailed ' if tailed else ''}numbers as log(x + 1)"
                     f"{'' if tailed else ', not long-tailed'}{why}")  # fmt: skip
    # a rate is a feature as drafted (a multiclass rate a column per class, NEW_CLASS); a count waits on its line
    numeric += [c for new in rates for c in ([f"{new}_{k}" for k in classes] if classes else [new])]
    waiting = {new: f"{col}'s count, a category of {many[col]:,} levels" for new, col in counted.items()}
    if stray:
        lines.append(
            f"# {', '.join(stray)}: more than {MAX_LEVELS} values, but at most {MAX_LEVELS} of them hold "
            f"{COMMON_SHARE:.0%} of the rows: categories with stray values, one-hot with the strays pooled (rare)."
        )
        verb = "holds" if len(stray) == 1 else "each hold"
        told.append(
            f"{', '.join(stray)} {verb} many values, but one of a few in nearly every row: one-hot, strays pooled"
        )
    if flat:
        lines.append(
            f"# {', '.join(flat)}: whole numbers with few values, along which the target hardly moves beyond chance: "
            "numbers, not codes (one_hot would spend a feature on each value)."
        )
    if sparse:
        lines.append(
            f"# {', '.join(sparse)}: whole numbers with few values, each but one in fewer than {RARE_BELOW} rows "
            f"(together under {SPARSE_SHARE:.1%} of them): numbers, not codes (one_hot would pool them into one 0/1 feature)."
        )
    if lined:
        along = "each class's rate only rises or only falls" if classes else "the target mean follows a line"
        lines.append(
            f"# {', '.join(lined)}: whole numbers with few values, but {along} along them: "
            "numbers, not codes (one_hot would make a feature of each value)."
        )
    like = _like_counts(train, lined)
    if like:  # their row's mean and spread, beside them (see ROW_COLUMNS)
        name, taken = "counts", set(train.columns) | set(numeric)
        while {name, f"{name}_mean", f"{name}_std"} & taken:  # none of what it makes is a column already
            name = "_" + name
        lines.append(
            f'row = {{ {toml_key(name)} = {{ stat = ["mean", "std"], columns = {_list(like)} }} }}  # each row\'s mean '
            f"and spread over its {len(like)} like counts ({name}_mean, {name}_std; {name} in numeric)"
        )
        numeric.append(name)
    lines += _array("numeric", numeric, "# number features, in this order", waiting)
    lines += _piecewise(train, numeric, log1p)
    guess = f"; {', '.join(codes)}: whole numbers with few values, guessed to be codes" if codes else ""
    if stepped:
        guess += (
            f"; {', '.join(stepped)}: numbers with fractions but few values, between which the target jumps rather "
            "than following a line"
        )
    if pooled:
        guess += (
            f"; {', '.join(pooled)}: whole numbers with every value but one in fewer than {RARE_BELOW} rows, so pooled "
            "into one 0/1 feature of the common value (a flag: has one or not)"
        )
    waiting = {col: f"a category of {n:,} levels" for col, n in many.items() if col in rare}
    if one_hot or waiting:  # no categories: no line for them
        lines += _array("one_hot", one_hot, f"# one 0/1 feature per level seen in training{guess}", waiting)
    if words and text_alone:
        lines.append(
            f"words = {_table(words)}  # free text, nearly all the input: a 0/1 feature per word in {WORD_ROWS} "
            f"training rows or more, or in {WORD_SHARE:.0%} of them ({WORDS} to {TEXT_WORDS:,}, and rows x words up to "
            f"{WORD_CELLS:,.0f}; each is a column every epoch multiplies)"
        )
    elif words:
        lines.append(
            f"words = {_table(words)}  # free text: a 0/1 feature per word in {WORD_SHARE:.0%} of the training rows "
            f"or more ({WORDS} to {WORDS_MAX}; each is a column every epoch multiplies)"
        )
    # The default preset's training is made for standardised inputs; dividing by the largest value squeezes a
    # column far from zero (a year, a price around 5e4) into a sliver near 1, where Adam's steps move it little.
    # The 0/1 features are left 0/1 (as scikit-learn's one-hot encoder beside a standard scaler leaves them): drafts,
    # the ensemble, with them standardised and left 0/1: digits 0.9007 and 0.9624, Titanic 0.8148 and 0.8231 (5 folds x
    # 3 repeats), an 8,693-row binary set 0.7921 and 0.7928, a 300,000-row synthetic set 0.7186 and 0.7188.
    lines.append(
        'scale = "standard_numbers"  # centre each numeric feature on its training mean, divide by its spread; '
        'one_hot and words features stay 0/1 ("standard": those too; "max": divide by the largest)'
    )
    if later := _later_dates(train, test, dates):
        col, (fit_end, test_start), block, gap, n_times = later
        folds, block = time_folds(n_times, block, gap)
        lines += [
            "",
            "[validation]",
            f"# {files['test']}'s {col} values (from {test_start}) all come after {files['train']}'s (to {fit_end}): folds that",
            "# learn from earlier dates and validate later ones score as the test set will be scored; random folds",
            "# would learn from the future (a trend, next week's promotions) and promise too much.",
            f"time = {json.dumps(col)}  # each fold validates the next block of {col}'s values on the rows before it",
            *TIME_BLOCK,
            f"block = {block}  # distinct {col} values each fold validates: "
            + (
                f"as many as {files['test']} holds" if block == later[2] else f"fewer than {files['test']}'s {later[2]}"
            ),
        ]
        if gap:
            lines.append(
                f"gap = {gap}  # days left out between each fold's training rows and its block, as between "
                f"{files['train']} and {files['test']}"
            )
        if folds < DEFAULT_FOLDS:
            if block == later[2]:
                why = [
                    f"# {n_times} distinct dates hold {folds} such blocks after a first one to learn from: with",
                    f"# {DEFAULT_FOLDS} folds, the first would learn from fewer dates than it validates, or from none.",
                ]
            else:
                why = [
                    f"# {n_times} distinct dates are too few for 2 blocks as long as the test period ({later[2]}) "
                    "after a first",
                    f"# one to learn from: 2 folds of {block}, each learning from {block} dates or more.",
                ]
            lines += [
                "",
                "[run]",
                *why,
                f"folds = {folds}  # the time split's folds",
            ]
        told.append(
            f"{files['test']}'s {col} values all come after {files['train']}'s: its folds validate on later dates"
        )
    elif group := _new_groups(train, test, [c for c in many if train[c].value_counts().median() < MANY_RARE_BELOW]):
        col, per_level = group
        lines += [
            "",
            "[validation]",
            f"# {files['test']}'s {col} values are none of {files['train']}'s, whose rows share them ({per_level:g} a "
            "value, the median): folds that",
            f"# keep each {col}'s rows together score as the test set's new ones will be scored; folds that split "
            "them let a row",
            f"# learn from its own {col}'s other rows and promise too much.",
            f"group = {json.dumps(col)}  # the rows of one {col} share a fold",
        ]
        told.append(f"{files['test']}'s {col} values are none of {files['train']}'s: its folds keep each {col} whole")
    elif twins := _repeated_rows(train, test, [c for c in train.columns if c not in (id_col, target, *splits)]):
        repeated, seen = twins
        # Offered, not drafted: see REPEATED_SHARE
        lines += [
            "",
            f"# {repeated:.1%} of {files['train']}'s rows share their inputs exactly with another, where {seen:.1%} of "
            f"{files['test']}'s repeat a training row's:",
            "# random folds validate such a row on its twin, which the models learned, and promise more than the test",
            "# rows give. Folds that keep equal rows together score closer (a trial's: 0.897 and 0.788 against 0.816",
            "# and 0.811 on its test rows), but choose fewer epochs, whose test score was lower. Uncomment to try:",
            "# [validation]",
            "# group_duplicates = true  # rows of equal inputs share a fold",
        ]
        told.append(
            f"{repeated:.1%} of {files['train']}'s rows share their inputs exactly with another ({seen:.1%} of "
            f"{files['test']}'s a training row's): random folds will promise more than the test rows give; the "
            "draft's commented [validation] group_duplicates keeps them together"
        )
    elif later := _later_numbers(train, test, [c for c in numeric if isinstance(c, str)]):
        # Offered, not drafted as a date's split is: a number may count seconds or orders that the target does not
        # drift along, and a time split's first folds learn from few rows; which pays is not measured yet.
        col, fit_end, test_start = later
        lines += [
            "",
            f"# {files['test']}'s {col} values (from {test_start:g}) all come after {files['train']}'s (to {fit_end:g}):",
            f"# if {col} orders the rows in time, folds that validate later values on the rows before them score as",
            "# the test set will be scored (and refit = true in [training] trains on the latest). Uncomment to try:",
            "# [validation]",
            f"# time = {json.dumps(col)}",
        ]
        told.append(
            f"{files['test']}'s {col} values all come after {files['train']}'s: if {col} is a time, the draft's "
            "commented [validation] time validates later values"
        )
    for a, b, share in _near_duplicates(train, flags):
        # said, not acted on: which of the two to keep is the user's call (a trial's two survey answers, drafted
        # as an interacting pair, agreed on 98.5 % of rows and the note said nothing)
        told.append(f"{a} and {b} agree on {share:.1%} of the rows that give both: near duplicates, each drafted")
    return lines, empty, told


# Distinct values a number needs before its test values all following its training values says something: a few
# values (a year of 3) can fall so by chance.
LATER_VALUES = 20
# Training rows that repeat another's inputs exactly, REPEATED_SHARE of them or more, where test rows repeat a
# training row's REPEATED_RATIO times less often: random folds validate a row on its twin, which the test rows seldom
# meet, so their CV promises too much. A trial's bacteria spectra (40,000 rows, 286 columns, a quarter of them
# repeats; 5 % of test rows a training row's): random folds' CV 0.897, hidden test 0.816; with equal rows kept in one
# fold (`group_duplicates`) 0.788 and 0.811: closer, but its nets chose 2 epochs where random folds' chose 63-99, and
# the test rows (copies among them) gained from those. So the draft offers it in a comment with a note. Where test
# rows repeat training rows as often (few columns of categories, whose combinations recur), random folds meet twins
# as the test rows do, and nothing is said.
REPEATED_SHARE = 0.01
REPEATED_RATIO = 2


def _repeated_rows(train, test, columns: list) -> tuple[float, float] | None:
    """(the share of training rows whose `columns` equal another training row's, the share of test rows that equal
    a training row's) where the first is REPEATED_SHARE or more and REPEATED_RATIO times the second; else None."""
    import numpy as np
    import pandas as pd

    from kit.values import row_hashes

    shared = [c for c in columns if c in test.columns]
    if not shared or len(train) < MANY_RARE_BELOW:
        return None
    fit = row_hashes(train, shared)  # (n,) as the group split reads equal rows (kit.competition.duplicate_groups)
    repeated = float(pd.Series(fit).duplicated(keep=False).mean())
    if repeated < REPEATED_SHARE:
        return None
    seen = float(np.isin(row_hashes(test, shared), fit).mean())
    return (repeated, seen) if repeated >= REPEATED_RATIO * seen else None


def _later_numbers(train, test, columns: list) -> tuple[str, float, float] | None:
    """(the first of `columns`, numbers in both files of LATER_VALUES distinct values or more in training, whose every
    test value comes after every training value; its largest training value; its smallest test value), or None."""
    import pandas as pd

    for col in columns:
        if col not in train or col not in test:
            continue
        fit, later = train[col], test[col]
        if not (pd.api.types.is_numeric_dtype(fit) and pd.api.types.is_numeric_dtype(later)):
            continue
        if pd.api.types.is_bool_dtype(fit) or fit.nunique() < LATER_VALUES or later.isna().all():
            continue
        if later.min() > fit.max():
            return col, float(fit.max()), float(later.min())
    return None


def _new_groups(train, test, columns: list) -> tuple[str, float] | None:
    """(the first of `columns` whose training rows repeat its values while the test rows hold none of them, the
    median rows a value in training), or None: such a column is a customer or a household the test set has not
    seen, and the honest folds keep each one's rows together."""
    for col in columns:
        if col not in test:
            continue
        counts = train[col].value_counts()
        if counts.median() >= 2 and not set(test[col].dropna()) & set(counts.index):
            return col, float(counts.median())
    return None


DEFAULT_FOLDS = 5  # kit's folds (kit.validation.Plan)


def time_folds(n_times: int, block: int, gap: int) -> tuple[int, int]:
    """(folds, block) for a drafted time split over n_times distinct dates: the test period's `block` and as many
    folds as leave the first fold at least one block of dates to learn from, up to DEFAULT_FOLDS; where not even
    2 folds leave that, 2 folds of shorter blocks (a third of the dates after the gap each)."""
    folds = min(DEFAULT_FOLDS, (n_times - gap) // block - 1) if block else DEFAULT_FOLDS
    if folds >= 2:
        return folds, block
    return 2, max(1, (n_times - gap) // 3)


def _later_dates(train, test, dates: dict) -> tuple[str, tuple[str, str], int, int, int] | None:
    """(a date column whose every test value comes after every training value, (the last training date, the first
    test date), the test's distinct dates, the whole days between the two, the training rows' distinct dates), or
    None: the test set is the future, and the time split validates that way, in blocks as long as the test period
    (TIME_BLOCK)."""
    from kit.values import as_dates

    for col, entry in dates.items():
        fmt = entry["format"] if isinstance(entry, dict) else None
        fit, later = (as_dates(frame[col], col, fmt=fmt)[1][:-1].dropna() for frame in (train, test))
        if len(fit) and len(later) and later.min() > fit.max():
            gap = (later.min().normalize() - fit.max().normalize()).days - 1  # days strictly between
            dates_then = (str(fit.max().date()), str(later.min().date()))
            return col, dates_then, len(later.unique()), max(gap, 0), len(fit.unique())
    return None


def _number_form(series, test) -> dict | None:
    """The `number` step's table (kit.values.as_number) that reads a text column as numbers, or None: the
    separators its numbers are written with (NUMBER_FORMS), and the few texts that are no number (FEW_TOKENS in at
    most TOKEN_ROWS of the rows: "?", "n/a") as gaps. Of the forms that read it, the one with the fewest tokens."""
    import pandas as pd

    # each distinct value's text once, not each row's: a 1,700,000-row column of 50 values took 1.5 s a column
    raw = pd.concat([series, test]).dropna().value_counts()  # (distinct values,) rows per value
    # more than FEW_TOKENS texts no form could read (NUMBER_LIKE) among the first distinct ones: none reads the
    # column, whatever the rest hold (a trial's 1,000,000 timestamps took 1.4 s a form to find so)
    if len({str(v).strip() for v in raw.index[:1000] if not NUMBER_LIKE.fullmatch(str(v))}) > FEW_TOKENS:
        return None
    counts = raw.groupby(raw.index.astype(str).str.strip()).sum()  # (distinct texts,) rows per text
    rows = int(counts.sum())
    written = pd.Series(counts.index, index=counts.index)
    plain = pd.to_numeric(written, errors="coerce").notna()
    best = None  # (rows of tokens, the form)
    for form, pattern in [({}, None), *NUMBER_FORMS]:
        # a plain number with a "." or "," is read by a form only when its pattern says so (12.5 is not 125)
        reads = plain if pattern is None else written.str.fullmatch(pattern) | plain & ~written.str.contains(r"[.,]")
        words = counts[~reads]
        if len(words) == len(counts) or len(words) > FEW_TOKENS or words.sum() > TOKEN_ROWS * rows:
            continue
        if best is None or words.sum() < best[0]:  # the plain reading first on a tie
            best = (words.sum(), dict(form) | ({"missing": sorted(words.index)} if len(words) else {}))
    return (best[1] or None) if best else None


def _code_numbers(col: str, distinct) -> bool:
    """Whether a column of numbers is codes to draft as a text category is (CODE_NAME): whole numbers, more of them
    than CODES, under a name that says they are codes."""
    return len(distinct) > CODES[-1] and bool((distinct % 1 == 0).all()) and bool(CODE_NAME.search(col))


def _strongest_pair(train, columns: list, y, kind: str, rare: dict | None = None) -> tuple | None:
    """((a, b), its gain) for the pair of `columns` (categories of at most PAIR_LEVELS levels, the first PAIR_COLUMNS)
    whose cells leave the most less held-out loss than their main effects, when that passes PAIR_GAIN; else None.
    rare: column -> the drafted `rare` threshold (rows, or below 1 a share of them): its levels are counted and paired
    as the recipe pools them (a trial's mushrooms had 46-65 levels a column, 14 or fewer once pooled)."""
    import numpy as np
    import pandas as pd

    y = np.asarray(y, dtype=float)
    y = y[:, None] if y.ndim == 1 else y  # (rows, 1) or (rows, classes)
    known = ~np.isnan(y).any(axis=1)
    if kind == "binary":
        y = np.concatenate([1 - y, y], axis=1)  # two classes, as a softmax of two weighs them
    codes = {}
    for col in [c for c in columns if c in train.columns][:PAIR_COLUMNS]:
        levels = train[col].astype(object).where(train[col].notna(), "\0missing")  # a gap as a level, as filled
        if col in (rare or {}):  # levels in fewer rows than the threshold share one, as kit.recipe's rare does
            below = rare[col] * len(train) if rare[col] < 1 else rare[col]
            counts = train[col].map(train[col].value_counts())
            levels = levels.where(train[col].isna() | (counts >= below), "\0rare")
        if 2 <= levels.nunique() <= PAIR_LEVELS:
            codes[col] = pd.factorize(levels)[0][known]
    half = (np.random.default_rng(0).random(int(known.sum())) < 0.5).astype(np.int64)  # fixed: the same draft
    gains = {
        (a, b): _pair_gain(codes[a], codes[b], y[known], kind != "regression", half)
        for i, a in enumerate(codes)
        for b in list(codes)[i + 1 :]
        if len(half) >= PAIR_ROWS * (codes[a].max() + 1) * (codes[b].max() + 1)
    }
    best = max(gains, key=gains.get, default=None)
    return (best, gains[best]) if best is not None and gains[best] > PAIR_GAIN else None


def _pair_gain(a, b, y, classify: bool, half) -> float:
    """The share of loss the cells of a x b leave less than the main effects of a and b on held-out rows: fitted on
    one half of the rows and scored on the other, both ways round, averaged. y: (rows, k) 0/1 per class, or values;
    half: (rows,) 0 or 1. Every sum is taken once per cell and half, so a pair costs a pass over the rows."""
    import numpy as np

    n_b, k = int(b.max()) + 1, y.shape[1]
    n_cells = (int(a.max()) + 1) * n_b
    bins = (a * n_b + b) * 2 + half  # each cell's rows of each half
    rows = np.bincount(bins, minlength=2 * n_cells).reshape(n_cells, 2).astype(float)

    def per_bin(values):  # (cells, 2, k) sums of each column
        return np.stack([np.bincount(bins, values[:, j], 2 * n_cells) for j in range(k)], axis=1).reshape(n_cells, 2, k)

    sums, squares = per_bin(y), None if classify else per_bin(y * y)
    out = []
    for fit, held in ((0, 1), (1, 0)):
        main = _main_effects(rows[:, fit], sums[:, fit], n_b, classify)  # (cells, k) each cell's rate by the two alone
        pulled = (sums[:, fit] + PAIR_SMOOTHING * main) / (rows[:, fit] + PAIR_SMOOTHING)[:, None]
        held_out = (rows[:, held], sums[:, held], None if classify else squares[:, held])
        plain, paired = _loss(main, *held_out), _loss(pulled, *held_out)
        out.append((plain - paired) / max(plain, 1e-12))
    return float(np.mean(out))


def _loss(rate, rows, sums, squares) -> float:
    """Summed over a half's rows from its sums per cell: log loss of the cells' rates (cells, k) against 0/1 per
    class (squares None), or squared error of values, sum((y - r)^2) = sum(y^2) - 2 r sum(y) + n r^2."""
    import numpy as np

    if squares is None:
        return float(-(sums * np.log(np.clip(rate, 1e-9, 1))).sum())
    return float((squares - 2 * rate * sums + rows[:, None] * rate * rate).sum())


def _main_effects(rows, sums, n_b: int, classify: bool):
    """Each cell's rate (cells, k) when a's and b's effects add: in logits for classes (a softmax fitted by gradient
    steps on the cells' counts), in means for values (backfitted)."""
    import numpy as np

    k = sums.shape[1]
    count, total = rows.reshape(-1, n_b), sums.reshape(-1, n_b, k)  # (n_a, n_b), (n_a, n_b, k)
    if not classify:
        mean = total.sum(axis=(0, 1)) / max(count.sum(), 1.0)
        u, v = np.zeros((count.shape[0], k)), np.zeros((n_b, k))
        for _ in range(50):  # unequal cells: each effect fitted in turn, given the other
            u = (total - count[..., None] * (mean + v[None])).sum(1) / (count.sum(1)[:, None] + 1)
            v = (total - count[..., None] * (mean + u[:, None])).sum(0) / (count.sum(0)[:, None] + 1)
        return (mean + u[:, None] + v[None]).reshape(-1, k)
    share, target = count / count.sum(), total / count.sum()
    base = np.log(total.sum(axis=(0, 1)) / count.sum() + 1e-9)  # (k,) the prior's logits
    u, v = np.zeros((count.shape[0], k)), np.zeros((n_b, k))

    def rates():  # (n_a, n_b, k) each cell's softmax of its logits
        z = base + u[:, None] + v[None]
        q = np.exp(z - z.max(-1, keepdims=True))
        return q / q.sum(-1, keepdims=True)

    for _ in range(100):  # converged: 300 steps moved a gain by less than 1e-8
        step = share[..., None] * rates() - target  # the mean cross-entropy's gradient in each cell's logits
        u -= step.sum(1) / (share.sum(1)[:, None] + 1e-9)  # each level's step by its rows: Newton-like for one class
        v -= step.sum(0) / (share.sum(0)[:, None] + 1e-9)
    return rates().reshape(-1, k)


def _logs_test(train, target: str, id_col: str) -> tuple[float, float]:
    """(the share of held-out RMSE effects added in logs leave less than effects added on the values, the share
    they leave less than the same multiplying effects fitted by least squares on the values), for a target of 0 or
    more (see LOG_ERRORS); both averaged over the two halves of the rows, each fitted on one, scored on the other."""
    import numpy as np
    import pandas as pd

    y = pd.to_numeric(train[target], errors="coerce").to_numpy(dtype=float)
    known = ~np.isnan(y)
    if known.sum() > LOG_ROWS:  # a fixed sample of them: the shares settle long before
        known &= np.random.default_rng(1).random(len(y)) < LOG_ROWS / known.sum()
    y, codes = y[known], []
    for col in [c for c in train.columns if c not in (id_col, target)][:LOG_COLUMNS]:
        values = train[col][known]
        if pd.api.types.is_numeric_dtype(values) and values.nunique() > LOG_BINS:  # its quantile bin, a gap its own
            numbers = values.to_numpy(dtype=float)
            cuts = np.unique(np.nanquantile(numbers, np.linspace(0, 1, LOG_BINS + 1)[1:-1]))
            codes.append(np.where(np.isnan(numbers), len(cuts) + 1, np.searchsorted(cuts, numbers, side="right")))
        elif values.nunique() <= LOG_LEVELS:
            codes.append(pd.factorize(values.astype(object).where(values.notna(), "\0missing"))[0])
    half = np.random.default_rng(0).random(len(y)) < 0.5  # fixed: the same draft
    levels = [int(c.max()) + 1 for c in codes]  # every row's: a level the fitting half lacks keeps no effect
    out = []
    for fit in (half, ~half):  # each half's rows fit the effects, the other half's score them
        fit_codes, y_fit, held = [c[fit] for c in codes], y[fit], [c[~fit] for c in codes]
        added = _added_effects(fit_codes, levels, y_fit)
        in_logs = _added_effects(fit_codes, levels, np.log1p(y_fit))
        logs_fit = np.expm1(in_logs(fit_codes))
        scale = (y_fit * logs_fit).sum() / max((logs_fit**2).sum(), 1e-12)  # back to the mean (kit.smearing)
        fitted = _multiplying_effects(fit_codes, levels, y_fit, np.log(np.maximum(scale * logs_fit, 1e-9)))
        logs = scale * np.expm1(in_logs(held))
        least_squares = np.exp(np.log(np.maximum(logs, 1e-9)) + fitted(held))
        rmse = [float(np.sqrt(((y[~fit] - p) ** 2).mean())) for p in (added(held), logs, least_squares)]
        out.append(((rmse[0] - rmse[1]) / rmse[0], (rmse[2] - rmse[1]) / rmse[2]))
    return tuple(float(v) for v in np.mean(out, axis=0))


def _added_effects(codes: list, levels: list, y, sweeps: int = 10):
    """Effects that add, one per level of each column (codes: each column's level per row; levels: how many it
    has), fitted in turn to y; returned as the function that predicts rows from their codes."""
    import numpy as np

    mean, pred = y.mean(), np.full(len(y), y.mean())
    effects = [np.zeros(n) for n in levels]
    for _ in range(sweeps):
        for c, effect in zip(codes, effects):
            pred -= effect[c]
            effect[:] = np.bincount(c, y - pred, len(effect)) / (np.bincount(c, minlength=len(effect)) + LOG_SMOOTHING)
            pred += effect[c]
    return lambda rows: mean + sum(effect[c] for c, effect in zip(rows, effects))


def _multiplying_effects(codes: list, levels: list, y, start, sweeps: int = 10):
    """Effects that multiply the predictions exp(start), fitted in turn by least squares on the values (a
    Gauss-Newton step per column); returned as the function that gives rows' sums of them (logs) from their codes."""
    import numpy as np

    eta, pull = start.copy(), LOG_SMOOTHING * y.mean() ** 2
    effects = [np.zeros(n) for n in levels]
    for _ in range(sweeps):
        for c, effect in zip(codes, effects):
            mu = np.exp(eta)
            gradient, curvature = np.bincount(c, (y - mu) * mu, len(effect)), np.bincount(c, mu * mu, len(effect))
            step = np.clip(gradient / (curvature + pull), -1, 1)  # at most a factor e a step: far levels converge
            effect += step
            eta += step[c]
    return lambda rows: sum(effect[c] for c, effect in zip(rows, effects))


def _target_numbers(target, kind: str, positive: str | None):
    """The target as numbers for _unordered and _along: a binary's 1 for the positive label (True/1/yes, or
    positive), a regression's values, a multiclass's 0/1 per class (rows, classes); None for other tasks."""
    import pandas as pd

    from kit.values import TRUE

    if kind == "regression":
        return pd.to_numeric(target, errors="coerce").to_numpy(dtype=float)
    if kind == "multiclass":
        texts = target.map(_text)
        classes = sorted(texts.dropna().unique())
        return pd.get_dummies(texts).reindex(columns=classes).astype(float).where(target.notna(), axis=0).to_numpy()
    if kind != "binary":
        return None
    texts = target.map(_text)
    hit = texts == positive if positive is not None else texts.str.lower().isin(TRUE)
    return hit.astype(float).where(target.notna()).to_numpy()


def _apart(means, chance):
    """Each value's mean against the midpoint of its neighbours' (an end's one neighbour), squared, less what chance
    gives it: (values,). Along an amount (an age) the means bend slowly and it is about 0; between codes, or values
    that each name an original row, each mean stands apart. means, chance: (values,) in the values' order, and the
    variance chance alone gives each mean."""
    import numpy as np

    left, right = np.r_[means[1], means[:-1]], np.r_[means[1:], means[-2]]  # (values,) each value's neighbours
    chance_left, chance_right = np.r_[chance[1], chance[:-1]], np.r_[chance[1:], chance[-2]]
    return (means - (left + right) / 2) ** 2 - chance - (chance_left + chance_right) / 4


def _repeats_apart(series, y) -> tuple[int, float, float] | None:
    """(values, training rows a value, prior weight) where a number's exact values repeat and its target mean moves
    from value to value beyond chance (see REPEAT_ROWS), else None. The prior weight is the rows a value's own mean
    needs to weigh as much as the mean over all rows: the rows' spread within a value over the spread between
    values' true means (as empirical Bayes has it)."""
    import numpy as np
    import pandas as pd

    if y is None or y.ndim > 1:  # several classes: no one mean to compare
        return None
    frame = pd.DataFrame({"x": series.to_numpy(), "y": y}).dropna()
    values = frame["x"].nunique()
    if values < REPEAT_VALUES or len(frame) < REPEAT_ROWS * values:
        return None
    stats = frame.groupby("x")["y"].agg(["mean", "var", "count"])  # (values,) sorted by value
    stats = stats[stats["count"] >= 2]  # a variance to tell chance by
    if len(stats) < REPEAT_VALUES:
        return None
    means, chance = stats["mean"].to_numpy(), (stats["var"] / stats["count"]).to_numpy()
    apart = _apart(means, chance)
    spread = float(apart.std())
    if spread == 0 or float(apart.mean()) < REPEAT_Z * spread / np.sqrt(len(apart)):
        return None
    share = (stats["count"] / stats["count"].sum()).to_numpy()
    between = float((share * (means - (share * means).sum()) ** 2).sum()) - float((share * chance).sum())
    within = float((share * stats["var"].to_numpy()).sum())
    prior = float(f"{min(max(within / between, 1.0), 1000.0):.2g}") if between > 0 else 1000.0
    return values, len(frame) / values, prior


def _unordered(col: str, series, distinct, y, unordered: list) -> bool:
    """Whether whole numbers of more values than CODES act as codes by the target (see UNORDERED_SIGNAL); a column
    that does is added to unordered."""
    import pandas as pd

    if y is None or y.ndim > 1 or len(distinct) <= CODES[-1] or not bool((distinct % 1 == 0).all()):
        return False  # (several classes: no one mean to tell codes by)
    frame = pd.DataFrame({"x": series.to_numpy(), "y": y}).dropna()
    stats = frame.groupby("x")["y"].agg(["mean", "var", "count"])  # (values,) sorted by value
    stats = stats[stats["count"] >= MANY_RARE_BELOW]
    if len(stats) <= CODES[-1] or stats["count"].sum() < SHARED_ROWS * len(frame):
        return False
    # Each value weighed by its rows, as _along does: a few channels that hold most rows tell more than a hundred
    # small ones whose means are mostly noise (weighed alike, those drowned the signal).
    share = (stats["count"] / stats["count"].sum()).to_numpy()  # (values,)
    means = stats["mean"].to_numpy()  # (values,)
    chance = (stats["var"] / stats["count"]).to_numpy()  # (values,) the variance chance alone gives a value's mean
    noise = float((share * chance).sum())
    signal = float((share * (means - (share * means).sum()) ** 2).sum()) - noise  # the spread beyond chance
    rough = float((share * _apart(means, chance)).sum())
    if signal > UNORDERED_SIGNAL * noise and rough > signal / 2:
        unordered.append(col)
        return True
    return False


def _gaps_tell(series, y) -> bool:
    """Whether a column's gaps move the target beyond chance (see GAP_Z): the gap rows' mean target, or a class's
    rate, GAP_Z standard errors or more from the other rows', with MANY_RARE_BELOW gap rows or more.

    y: (rows,), or (rows, classes) for a multiclass; None (no one target) tells nothing."""
    import numpy as np

    if y is None:
        return False
    y = y.reshape(len(y), -1)  # (rows, targets)
    labelled = ~np.isnan(y).any(axis=1)  # (rows,) rows of no target (unlabelled) say nothing
    gap = series.isna().to_numpy() & labelled  # (rows,)
    rest = ~series.isna().to_numpy() & labelled
    if gap.sum() < MANY_RARE_BELOW or rest.sum() < MANY_RARE_BELOW:
        return False
    apart = np.abs(y[gap].mean(axis=0) - y[rest].mean(axis=0))  # (targets,)
    error = np.sqrt(y[gap].var(axis=0) / gap.sum() + y[rest].var(axis=0) / rest.sum())  # (targets,)
    return bool((apart > GAP_Z * error).any())


def _monotone(values, weights):
    """The weighted least-squares fit to values (n,) that never falls, by pooling adjacent values that fall."""
    import numpy as np

    pools = []  # [weighted sum, weight, how many values]
    for v, w in zip(values, weights):
        pools.append([v * w, w, 1])
        while len(pools) > 1 and pools[-2][0] / pools[-2][1] > pools[-1][0] / pools[-1][1]:
            total, weight, n = pools.pop()
            pools[-1] = [pools[-1][0] + total, pools[-1][1] + weight, pools[-1][2] + n]
    return np.concatenate([np.full(n, total / weight) for total, weight, n in pools])


def _one_common(series) -> bool:
    """Whether at most one of a column's values is in RARE_BELOW rows or more, the others in fewer than
    SPARSE_SHARE of the rows together (see LINE_VALUES)."""
    counts = series.value_counts()
    return int((counts >= RARE_BELOW).sum()) <= 1 and counts.iloc[1:].sum() < SPARSE_SHARE * len(series)


def _value_stats(series, y, fewest: int):
    """(values, rows, shares, target means, target variances) of a column's values of MANY_RARE_BELOW rows or more,
    sorted, where there are `fewest` of them or more and they hold SHARED_ROWS of the rows; else None. The means and
    variances are (values, targets): y (rows,), or (rows, classes) for a multiclass."""
    import pandas as pd

    if y is None:
        return None
    frame = pd.DataFrame(y.reshape(len(y), -1)).assign(x=series.to_numpy()).dropna()
    grouped = frame.groupby("x")  # values sorted
    count = grouped.size()
    kept = count[count >= MANY_RARE_BELOW].index
    if len(kept) < fewest or count[kept].sum() < SHARED_ROWS * len(frame):
        return None
    counts = count[kept].to_numpy(float)  # (values,)
    return kept, counts, counts / counts.sum(), grouped.mean().loc[kept], grouped.var().loc[kept]


def _along(series, y) -> str | None:
    """How the target moves along whole numbers of few values (see LINE_VALUES), where enough rows tell: "line",
    beyond chance and along a straight line through the values' means (an amount); "flat", hardly beyond chance
    (one-hot would spend a feature on each value for noise); "codes", beyond chance and not along a line; None when
    too few of the values have enough rows to tell.

    y: (rows,), or (rows, classes) for a multiclass, whose classes' rates count together: their movements beyond
    chance, and what is left by a curve through each, are summed. A class's rate is a share, held between 0 and 1,
    so along an amount it rises or falls in a curve, not a line: a multiclass's curves are the closest that only
    rise or only fall (`_monotone`), where a code's rates go up and down (an hour's two peaks)."""
    import numpy as np

    stats = _value_stats(series, y, LINE_VALUES)
    if stats is None:
        return None
    kept, counts, share, all_means, all_vars = stats
    x = kept.to_numpy(float)  # (values,)
    chance = spread = left = 0.0
    for t in all_means.columns:
        means = all_means[t].to_numpy()  # (values,)
        noise = float((share * all_vars[t].to_numpy() / counts).sum())  # the variance chance alone gives the means
        chance += noise
        spread += float((share * (means - (share * means).sum()) ** 2).sum()) - noise  # beyond chance
        if len(all_means.columns) > 1:  # (values,) the closest curve that only rises or only falls
            line = min(
                _monotone(means, share), -_monotone(-means, share), key=lambda f: (share * (means - f) ** 2).sum()
            )
        else:  # (values,) the weighted least-squares line
            line = np.polyval(np.polyfit(x, means, 1, w=np.sqrt(share)), x)
        left += float((share * (means - line) ** 2).sum()) - noise
    if spread <= UNORDERED_SIGNAL * chance:
        return "flat"
    return "line" if left <= LINE_LEFT * spread else "codes"


def _unit_numbers(series) -> dict:
    """Numbers written with a unit inside a text column ("172.0HP 1.6L 4 Cylinder Engine"): unit -> (an example,
    the share of rows holding it), for units in UNIT_ROWS of the rows or more with UNIT_VALUES distinct numbers or
    more (a horsepower, not the "24V" of a few engines), most common first; as words they are noise ("0hp")."""
    import numpy as np

    from kit.values import text_codes

    codes, names = text_codes(series)
    rows = np.bincount(codes[codes >= 0], minlength=len(names))  # (n_distinct,) rows holding each text
    found = {}  # unit -> [rows, numbers seen, first example]
    for text, n in zip(names, rows):
        for number, unit in {(m.group(1), m.group(2)) for m in UNIT_NUMBER.finditer(text)}:
            seen = found.setdefault(unit, [0, set(), number + unit])
            seen[0] += int(n)
            seen[1].add(float(number))
    total = max(int(rows.sum()), 1)
    kept = [
        (u, r / total, ex)
        for u, (r, values, ex) in found.items()
        if r >= UNIT_ROWS * total and len(values) >= UNIT_VALUES
    ]
    return {u: (ex, share) for u, share, ex in sorted(kept, key=lambda k: (-k[1], k[0]))[:UNITS]}


def _framed_number(series) -> tuple[str, str, str] | None:
    """(the words before, the words after, an example number) where FRAMED_SHARE of the rows' values are one whole
    number between the same words (`Episode 73`: "Episode ", "", "73"), of FRAMED_VALUES numbers or more; else None.
    A bare number is no text to read one from."""
    import numpy as np

    from kit.values import text_codes

    codes, names = text_codes(series)
    rows = np.bincount(codes[codes >= 0], minlength=len(names))  # (n_distinct,) rows holding each text
    frames = {}  # (before, after) -> [rows, numbers seen]
    for text, n in zip(names, rows):
        if match := FRAMED.match(text):
            seen = frames.setdefault((match.group(1), match.group(3)), [0, set()])
            seen[0] += int(n)
            seen[1].add(match.group(2))
    if not frames:
        return None
    (before, after), (held, numbers) = max(frames.items(), key=lambda item: item[1][0])
    if not (before or after) or held < FRAMED_SHARE * rows.sum() or len(numbers) < FRAMED_VALUES:
        return None
    return before, after, min(numbers, key=lambda v: (len(v), v))


def _wordy(series) -> bool:
    """Whether a text column reads as words: a median of WORDY or more of them (kit.recipe's words) a row, counting
    only those with a letter, so that a code of numbers ("2000-01-01x", "B/0/P") is not read as words."""
    import numpy as np

    from kit.recipe import WORD
    from kit.values import text_codes

    codes, names = text_codes(series)
    counts = np.array([sum(not w.isdigit() for w in WORD.findall(t.lower())) for t in names])  # (n_distinct,)
    return bool(len(counts) and np.median(counts[codes[codes >= 0]]) >= WORDY)


def _word_count(series, alone: bool = False) -> int:
    """How many of a text column's words to flag: those held by WORD_SHARE of its rows or more, WORDS to WORDS_MAX;
    alone (the text nearly all the input), those held by WORD_ROWS rows or more where they are more, up to
    WORD_CELLS rows x words and TEXT_WORDS (see TEXT_INPUTS)."""
    import numpy as np

    from kit.recipe import _word_sets

    codes, sets = _word_sets(series)
    rows = np.bincount(codes[codes >= 0], minlength=len(sets))  # (n_distinct,) rows per text
    held: dict[str, int] = {}
    for words, k in zip(sets, rows.tolist()):
        for w in words:
            held[w] = held.get(w, 0) + k
    common = sum(k >= WORD_SHARE * len(series) for k in held.values())
    drafted = min(max(common, WORDS), WORDS_MAX)
    if alone:
        telling = sum(k >= WORD_ROWS for k in held.values())
        drafted = max(drafted, min(telling, int(WORD_CELLS / len(series)), TEXT_WORDS))
    return drafted


def _stray_values(series) -> int | float | None:
    """The `rare` that pools a column's stray values where at most MAX_LEVELS levels hold nearly every row (see
    STRAY_SHARE): a share of the rows where it comes to RARE_BELOW rows or more, else RARE_BELOW; None otherwise."""
    counts = series.value_counts()  # (levels,) rows per level, gaps left out: they are a level of their own
    common = counts[counts >= max(RARE_BELOW, STRAY_SHARE * len(series))]
    if len(common) > MAX_LEVELS or common.sum() + series.isna().sum() < COMMON_SHARE * len(series):
        return None
    if common.empty:  # gaps and values each rare (remarks in a column mostly empty): no levels to one-hot
        return None
    return STRAY_SHARE if STRAY_SHARE * len(series) >= RARE_BELOW else RARE_BELOW


def _levels_flat(series, y) -> bool:
    """Whether a category's target means hardly move between its levels beyond chance (UNORDERED_SIGNAL times the
    variance chance gives them, each level weighed by its rows, a multiclass's classes summed as in `_along`), over
    levels of MANY_RARE_BELOW rows or more that hold SHARED_ROWS of the rows; False where too few rows tell."""
    stats = _value_stats(series, y, 2)
    if stats is None:
        return False
    _, counts, share, all_means, all_vars = stats
    chance = spread = 0.0
    for t in all_means.columns:
        means = all_means[t].to_numpy()  # (levels,)
        noise = float((share * all_vars[t].to_numpy() / counts).sum())  # the variance chance alone gives the means
        chance += noise
        spread += float((share * (means - (share * means).sum()) ** 2).sum()) - noise  # beyond chance
    return spread <= LEVELS_FLAT * chance


def _many_levels(series) -> bool:
    """Whether a text column of more than MAX_LEVELS values reads as a category with many levels: short texts,
    most rows sharing theirs with other rows (see SHARED_ROWS), and not dates."""
    import pandas as pd

    texts = series.dropna().astype(str)
    counts = texts.value_counts()  # (levels,) rows per level
    shared = counts[counts > 1].sum() / counts.sum()
    short = pd.Series(counts.index).str.len().median() <= SHORT_TEXT
    dates = all(DATE_LIKE.match(v) for v in counts.index[:DATE_SAMPLE])
    return bool(shared >= SHARED_ROWS and short and not dates)


def _category_note(
    col: str,
    levels: int,
    where: str | None,
    columns,
    option: str = "",
    written: str = "short texts",
    like: str | None = None,
) -> list[str]:
    """Comment lines for a category with many levels: the steps that turn it into features, in the recipe's syntax
    (option: target_mean's options for the task), and where the line to uncomment is (see SHARED_ROWS); where None,
    the draft uses its target rate, where "flat", nothing (see LEVELS_FLAT); written: what its values are, as the note names them; like: a column whose
    note above already lists the steps (a trial's 17 such columns repeated the same five lines 17 times)."""
    count = _new_name(f"{col}_count", columns)
    rate = _new_name(f"{col}_rate", columns)
    how = (
        "Left out: its target mean moves between its levels hardly beyond chance, and their rate would be noise."
        if where == "flat"
        else f"To use it, uncomment its line in {where} below."
        if where
        else "Drafted as its level's target rate: each training row's from the other rows of its level."
    )
    first = f"# {col}: a category of {levels:,} levels ({written}, most seen in several rows), not free text."
    if like:
        return [first, f"# {how} The steps that fit it are {like}'s above."]
    return [
        first,
        f"# {how} Steps that fit it: one_hot with rare (its levels in fewer than N rows",
        f"# as one), count (how many training rows share its level: count = {{ {toml_key(count)} = {json.dumps(col)} }}),",
        "# target_mean (its level's target rate, or mean for a regression; the draft's pick where it wrote one):",
        f"# target_mean = {{ {toml_key(rate)} = {{ by = {_list([col])}, centre = true{option} }} }};",
        "# a column count or target_mean makes is a feature once it is in numeric.",
    ]


def _compounds(train, test, id_col: str, target: str) -> dict[str, tuple[str, list[str]]]:
    """{column: (separator, its parts' new names COLUMN_1, ...)} for each compound code (see SPLIT_SHARE): a text
    column of more than MAX_LEVELS values, not dates, nearly all splitting into the same number of parts."""
    import pandas as pd

    found = {}
    for col in train.columns:
        if col in (id_col, target) or col not in test.columns or pd.api.types.is_numeric_dtype(train[col]):
            continue
        # each distinct text once, weighed by its rows: per row, 17 columns of 1,000,000 rows took 50 s
        raw = train[col].dropna().value_counts()  # (distinct values,) rows per value
        counts = raw.groupby(raw.index.astype(str)).sum()  # (distinct texts,) rows per text
        texts, rows = counts.index.to_series(), counts.sum()
        if (
            len(counts) <= MAX_LEVELS
            or _date_forms([str(v) for v in train[col].dropna().unique()[:DATE_SAMPLE]])  # in the order read
            or counts[texts.str.contains(r"\s")].sum() > (1 - SPLIT_SHARE) * rows
        ):
            continue  # few values, dates, or text of words ("visit 4: the customer asked"): no code
        for sep in SPLIT_SEPARATORS:
            by_parts = counts.groupby(texts.str.count(re.escape(sep)) + 1).sum()  # parts -> rows of values with as many
            n = int(by_parts.idxmax())  # the most rows' (the fewest parts on a tie, as a mode)
            if 2 <= n <= SPLIT_MAX and by_parts[n] >= SPLIT_SHARE * rows:
                found[col] = (sep, [_new_name(f"{col}_{i + 1}", train.columns) for i in range(n)])
                break
    return found


def _with_parts(train, test, extra: list, splits: dict) -> tuple:
    """train, test and the extra frames with each compound's parts beside it, as kit.recipe's split makes them
    (a value of fewer parts leaves the rest missing); a part that reads as numbers in train and test is numbers."""
    import pandas as pd

    if not splits:
        return train, test, extra
    frames = [f.copy() for f in (train, test, *extra)]
    for col, (sep, names) in splits.items():
        parts = [
            f[col].astype("string").str.split(sep, n=len(names) - 1, expand=True) if col in f else None for f in frames
        ]
        for i, name in enumerate(names):
            texts = [
                (p[i] if p is not None and i in p.columns else pd.Series(pd.NA, index=f.index, dtype="string"))
                for f, p in zip(frames, parts)
            ]
            numbers = [pd.to_numeric(t, errors="coerce") for t in texts]
            as_numbers = all(n.notna().sum() == t.notna().sum() for n, t in list(zip(numbers, texts))[:2])
            for f, t, n in zip(frames, texts, numbers):
                f[name] = n.astype("float64") if as_numbers else t.astype(object).where(t.notna(), None)
    return frames[0], frames[1], frames[2:]


def _near_duplicates(train, flags: list) -> list[tuple[str, str, float]]:
    """Pairs of two-valued columns (of the first NEAR_FLAGS) that say the same, or the opposite, in NEAR_SAME of the
    rows that give both: (a, b, that share)."""
    import numpy as np

    coded = {}
    for col in flags[:NEAR_FLAGS]:
        values = train[col].map(lambda v: str(v).lower(), na_action="ignore")
        seen = sorted(values.dropna().unique())
        if len(seen) == 2:  # 0/1 by the sorted texts: no/yes, false/true; the opposite counts as the same below
            coded[col] = values.map({seen[0]: 0.0, seen[1]: 1.0}).to_numpy(dtype="float64")
    found = []
    for i, a in enumerate(coded):
        for b in list(coded)[i + 1 :]:
            both = ~(np.isnan(coded[a]) | np.isnan(coded[b]))
            if both.sum() >= RARE_BELOW:
                same = float((coded[a][both] == coded[b][both]).mean())
                share = max(same, 1 - same)
                if share >= NEAR_SAME:
                    found.append((a, b, share))
    return found


def _like_counts(train, lined: list) -> list:
    """The columns of `lined` (whole numbers of few values drafted as numbers) that are alike: none below 0, each one's
    largest value within a factor of 2 of their median largest, ROW_COLUMNS of them or more; else []."""
    import statistics

    if len(lined) < ROW_COLUMNS:
        return []
    top = {col: float(train[col].max()) for col in lined}
    middle = statistics.median(top.values())
    like = [c for c in lined if float(train[c].min()) >= 0 and middle / 2 <= top[c] <= 2 * middle]
    return like if len(like) >= ROW_COLUMNS else []


def _piecewise(train, numeric: list, log1p: dict) -> list[str]:
    """The piecewise line for the drafted numbers of PIECEWISE_VALUES values or more (a log by its source's values;
    rates, counts and flags the draft makes are not binned), commented out where the train's size says not to."""
    binned = {}
    for col in numeric:
        source = log1p.get(col, col)
        if isinstance(col, str) and source in train.columns and train[source].nunique() >= PIECEWISE_VALUES:
            binned[col] = PIECEWISE_BINS
    if not binned:
        return []
    line = f"piecewise = {_table(binned)}"
    low, high = PIECEWISE_ROWS
    if len(binned) > PIECEWISE_MAX:
        return [f"# {line}  # not drafted: {len(binned) * PIECEWISE_BINS:,} features; uncomment to try"]
    if len(train) < low:
        return [
            f"# {line}  # not drafted below {low:,} training rows (a draft of 891 rows lost by them); uncomment to try"
        ]
    if len(train) >= high:
        return [
            f"# {line}  # not drafted at {high:,} training rows or more: a 300,000-row set lost by them at twice the "
            "training time and memory, a 750,000-row one gained (AUC +0.0010, 1.3 times the memory); uncomment to try"
        ]
    return [
        f"{line}  # each number also as {PIECEWISE_BINS} bins cut at its training quantiles: a step a net can weigh "
        "at each, as a tree splits"
    ]


def _array(key: str, items: list, comment: str, waiting: dict) -> list[str]:
    """`key = [items]  comment` on one line, or, with items waiting to be added (item -> what it is), over lines
    with each of those commented out on a line of its own: one line to uncomment."""
    if not waiting:
        return [f"{key} = {_list(items)}  {comment}"]
    lines = [f"{key} = [  {comment}", *([f"    {_list(items)[1:-1]},"] if items else [])]
    # an item of several columns (a multiclass rate) is one line of them all
    names = {item: _list(item)[1:-1] if isinstance(item, tuple) else json.dumps(item) for item in waiting}
    lines += [f"    # {names[item]},  # {what}: uncomment to use it" for item, what in waiting.items()]
    return [*lines, "]"]


def _new_name(name: str, columns) -> str:
    """name, or with underscores before it as many as it takes to be none of the data's columns."""
    while name in columns:
        name = "_" + name
    return name


def _missing_level(levels: set[str]) -> str:
    """MISSING, or with underscores before it as many as it takes to be none of the column's own levels."""
    name = MISSING
    while name in levels:
        name = "_" + name
    return name


def _date_forms(distinct) -> list[str]:
    """The forms a text column's distinct values (the first DATE_SAMPLE) read as dates in: [""] for ISO 8601, else
    those of DATE_FORMS (with a time if they have one) that read them all; [] when they are not dates."""
    import pandas as pd

    from kit.values import as_dates

    sample = pd.Series(list(distinct[:DATE_SAMPLE]), dtype=object)
    if not all(isinstance(v, str) for v in sample):
        return []
    iso = all(ISO_DATE.match(v) for v in sample)
    if not iso and not all(DATE_LIKE.match(v) for v in sample):
        return []
    found = []
    for fmt in [None] if iso else DATE_FORMS:
        for form in [fmt] if fmt is None else [fmt, f"{fmt} %H:%M", f"{fmt} %H:%M:%S"]:
            try:
                as_dates(sample, "", fmt=form)
            except KitError:
                continue
            found.append(form or "")
            break
    return found


def _hours_differ(distinct, form: str) -> bool:
    """Whether a date column's first DATE_SAMPLE distinct values (read in `form`, "" for ISO) hold two hours or more."""
    import pandas as pd

    from kit.values import as_dates

    _, when = as_dates(pd.Series(list(distinct[:DATE_SAMPLE]), dtype=object), "", fmt=form or None)
    return when.dropna().hour.nunique() > 1


def _share(gain: float) -> str:
    """A held-out gain as the draft's comments say it: "1.2 % less" or "0.4 % more"."""
    return f"{abs(gain) * 100:.2f} % {'less' if gain >= 0 else 'more'}"


def _text(value) -> str:
    """A target value as a submission writes it: 1.0 -> "1", True -> "True"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _list(items) -> str:
    return "[" + ", ".join(json.dumps(str(v)) for v in items) + "]"  # a JSON string is a TOML basic string


def _table(mapping: dict) -> str:
    parts = [f"{toml_key(k)} = {_value(v)}" for k, v in mapping.items()]
    return "{ " + ", ".join(parts) + " }"


def _value(value) -> str:
    """A TOML value: a whole number as it is, a tuple as a list of strings, a dict as a table, a string quoted."""
    if isinstance(value, tuple):
        return _list(value)
    if isinstance(value, dict):
        return _table(value)
    return str(value) if isinstance(value, int) else json.dumps(value)
