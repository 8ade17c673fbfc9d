"""Session-state keys, in one place: every widget's ``key=`` comes from here.

Tests drive widgets by these keys (``at.selectbox(key=state.DATASET)``); the
keys of widgets whose options depend on the dataset come from :func:`for_dataset`.
"""

from __future__ import annotations

# Query-string parameters of a shareable link (dashboard/common/links.py): the
# state that makes a view, under short names that read well in a URL. Not
# session-state keys: each page binds the widget it has to the parameter.
Q_DATASET = "dataset"
Q_MODELS = "models"  # repeated, one per model
Q_MODEL = "model"
Q_LAYER = "layer"  # a stored sparse layer
Q_LAMBDA = "lambda"  # an index into the layer's λ path
Q_DECISION = "decision"  # the sparse or the dense decision layer
Q_CLASS = "class"  # an index into the class names (-1: Σ over classes)
Q_FEATURES = "features"  # repeated, one per feature name
Q_FEATURE = "feature"  # a deep feature's index
Q_SPLIT = "split"
Q_EXAMPLE = "example"  # an index into the page's list of examples
Q_METHODS = "methods"  # repeated, one per saliency method
Q_PROJECTION = "projection"  # PCA maps: a key of core.neural_lasso.pca.PROJECTIONS
Q_SIZE = "size"  # λ sweep: the target number of features per class

# Sidebar, shared by every page.
DATASET = "dataset"
MODELS = "models"  # per dataset: for_dataset(MODELS, name)

# Data page.
FEATURE_FILTER = "data.feature_filter"  # per dataset
PLOT_FEATURES = "data.plot_features"  # per dataset
PLOT_SPLIT = "data.plot_split"
SAMPLE_SPLIT = "data.sample_split"
SAMPLE_SEED = "data.sample_seed"
DOWNLOAD_SIZES = "data.download_sizes"
DOWNLOAD_DISTRIBUTION = "data.download_distribution"  # + "." + feature name
DOWNLOAD_BALANCE = "data.download_balance"
DOWNLOAD_FEATURES = "data.download_features"
DOWNLOAD_SAMPLES = "data.download_samples"
DOWNLOAD_IMAGES = "data.download_images"

# Train page.
TRAIN_ARCHITECTURE = "train.architecture"  # per dataset
TRAIN_PENALTY = "train.penalty"  # per dataset and architecture
TRAIN_FORM = "train.form"
TRAIN_STRENGTH = "train.strength"  # per dataset, architecture and penalty
TRAIN_GROUPS = "train.groups"  # per dataset
TRAIN_EPOCHS = "train.epochs"  # per dataset and architecture
TRAIN_SEED = "train.seed"
TRAIN_MODEL_ID = "train.model_id"
TRAIN_SUBMIT = "train.submit"
DOWNLOAD_HISTORY = "train.download_history"
# Not widgets: what the last training run of this session produced, and a model
# ID the sidebar should choose on its next run.
LAST_TRAINED = "train.last_trained"
NEW_MODEL = "train.new_model"

# Models page.
DOWNLOAD_MODELS = "models.download_table"
CARD_MODEL = "models.card"  # per dataset
DELETE_CONFIRM = "models.delete_confirm"  # per model
DELETE = "models.delete"
DOWNLOAD_COMPARISON = "models.download_comparison"
DOWNLOAD_TABLE1 = "models.download_table1"
NOTICE = "models.notice"  # not a widget: what the last deletion did

# Input gradients, PCA maps and Weights pages.
INSPECT_MODELS = "inspect.models"  # per dataset: up to three models compared
INSPECT_SPLIT = "inspect.split"
INSPECT_TARGET = "inspect.target"  # per dataset: a class, or Σ_k (ALL_CLASSES)
INSPECT_FEATURES = "inspect.features"  # per dataset and model choice
INSPECT_TREND = "inspect.trend"
INSPECT_SHARE_Y = "inspect.share_y"
PCA_MODELS = "pca.models"  # per dataset
PCA_MODEL = "pca.model"  # per dataset and model choice: whose gradients
PCA_TARGET = "pca.target"  # per dataset
PCA_PROJECTION = "pca.projection"  # per dataset
WEIGHTS_MODELS = "weights.models"  # per dataset
WEIGHTS_TOLERANCE = "weights.tolerance"
DOWNLOAD_INSPECT = "inspect.download"  # + "." + what
DOWNLOAD_PCA = "pca.download"  # + "." + what
DOWNLOAD_WEIGHTS = "weights.download"  # + "." + what

# Add data page. Widgets whose options come from the file are keyed per file:
# for_setting(key, <first 12 hex digits of the file's SHA-256>).
ADD_KIND = "add.kind"
ADD_UPLOAD = "add.upload"
ADD_PATH = "add.path"
ADD_NAME = "add.name"
ADD_TARGET = "add.target"  # per file
ADD_ID = "add.id"  # per file
ADD_CATEGORICAL = "add.categorical"  # per file, label and ID column
ADD_IGNORE = "add.ignore"  # per file, label and ID column
ADD_TEXT = "add.text"  # per file
ADD_IMPUTE = "add.impute"
ADD_INDICATORS = "add.indicators"
ADD_SCALING = "add.scaling"
ADD_DROP_MISSING = "add.drop_missing"
ADD_BALANCE = "add.balance"
ADD_WORDS = "add.words"
ADD_RANGES = "add.ranges"
ADD_LABELS = "add.labels"
ADD_SUBMIT = "add.submit"
ADD_DELETE_CHOICE = "add.delete_choice"
ADD_DELETE_CONFIRM = "add.delete_confirm"
ADD_DELETE = "add.delete"
DOWNLOAD_PREVIEW = "add.download_preview"
# Not widgets: what the last registration or deletion did, and a dataset the
# sidebar should choose on its next run.
ADD_NOTICE = "add.notice"
NEW_DATASET = "add.new_dataset"
# Saliency lab page.
SALIENCY_MODEL = "saliency.model"  # per dataset
SALIENCY_EXAMPLE = "saliency.example"
SALIENCY_METHODS = "saliency.methods"
SALIENCY_PARAM = "saliency.param"  # per dataset, method and parameter (for_setting)
SALIENCY_CURVE_EXAMPLES = "saliency.curve_examples"
SALIENCY_STUDY = "saliency.study"  # toggle: run the Hessian study
DOWNLOAD_SALIENCY = "saliency.download"  # + "." + what

# Every inspection page: its "Report (HTML)" button.
REPORT = "report"  # + "." + page


def download_key(prefix: str, name: str) -> str:
    """A widget key for one of several downloads (one per figure)."""
    return f"{prefix}.{name}"


def for_dataset(key: str, dataset: str) -> str:
    """The key of a widget whose options depend on the chosen dataset.

    Each dataset gets a widget of its own, so a choice made for another
    dataset is never shown stale in the browser: with one key for all
    datasets, deleting the stale choice from session state reset the value the
    page used but not the chips the browser displayed. (Streamlit forgets the
    state of widgets a run does not draw, so returning to a dataset starts from
    its defaults again.)
    """
    return f"{key}[{dataset}]"


def for_setting(key: str, *parts: str) -> str:
    """The key of a widget whose default depends on several choices.

    E.g. the strength field, keyed by dataset, architecture and penalty, starts
    from that combination's Table 1 strength whenever one of them changes.
    """
    return f"{key}[{'/'.join(parts)}]"


# λ sweep page.
SWEEP_LAYER = "sweep.layer"
SWEEP_INDEX = "sweep.index"  # per layer
SWEEP_CLASS = "sweep.class"  # per layer
SWEEP_TOP = "sweep.top"
SWEEP_TOP_TABLE = "sweep.top_table"  # its selected row opens the feature's view
SWEEP_SIZE = "sweep.size"  # target features per class
SWEEP_JUMP = "sweep.jump"  # moves the slider to the λ chosen by size
SWEEP_FEATURES = "sweep.features"  # per dataset
SWEEP_ALPHA = "sweep.alpha"
SWEEP_LAMBDAS = "sweep.n_lambdas"
SWEEP_COMPUTE = "sweep.compute"
DOWNLOAD_SWEEP = "sweep.download"

# Debugging pages (Word clouds, Counterfactuals, Bias probe, Misclassifications).
DEBUG_LAYER = "debug.layer"  # per page: for_setting(DEBUG_LAYER, page)
DEBUG_CORPUS = "debug.corpus"  # per page and layer: a computed word-cloud corpus
DEBUG_SPLIT = "debug.split"  # word clouds to compute: which split
DEBUG_LIMIT = "debug.limit"  # ... how many sentences (0: all)
DEBUG_SAMPLES = "debug.samples"  # ... LIME samples per sentence
DEBUG_COMPUTE = "debug.compute"  # per page
DEBUG_MIN_COUNT = "debug.min_count"  # per page: each page has its own default
CLOUDS_FEATURE = "clouds.feature"  # per layer
CLOUDS_TOP = "clouds.top_sentences"
CF_LAYER = "cf.decision_layer"  # sparse or dense
CF_SOURCE = "cf.source"  # pick a test sentence or type one
CF_PICK = "cf.pick"  # per layer
CF_TEXT = "cf.text"
CF_BATCH_N = "cf.batch_n"
CF_BATCH_SEED = "cf.batch_seed"
CF_BATCH_RUN = "cf.batch_run"
CF_BATCH = "cf.batch"  # not a widget: the last batch evaluation (layer, result)
BIAS_WORD = "bias.word"  # per layer
BIAS_POSITION = "bias.position"
BIAS_N = "bias.n"
BIAS_RUN = "bias.run"
BIAS_RESULT = "bias.result"  # not a widget: the last probe (layer, word, table)
# Misclassifications page; INDEX is per layer (the sparse layer's λ index),
# PICK per layer, decision layer and split.
MISCLASSIFICATIONS_LAYER = "misclassifications.decision_layer"  # sparse or dense
MISCLASSIFICATIONS_SPLIT = "misclassifications.split"
MISCLASSIFICATIONS_INDEX = "misclassifications.index"
MISCLASSIFICATIONS_PICK = "misclassifications.pick"
DOWNLOAD_DEBUG = "debug.download"  # + "." + what
# Feature views page (image layers).
VIEWS_LAYER = "views.layer"
VIEWS_FEATURE = "views.feature"  # per layer
VIEWS_TOP = "views.top_images"
VIEWS_COMPUTE = "views.compute"  # λ sweep: compute the top features' views
DOWNLOAD_VIEWS = "views.download"  # + "." + what
