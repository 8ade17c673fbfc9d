# Sourced by the entry scripts: where the data lives.
# On the team's machines the offline mirror of the public datasets sits beside the
# repository; use it as the data home unless one was chosen.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${SPARSELENS_DATA:-}" ] && [ -d "$_root/../shared/data" ]; then
  export SPARSELENS_DATA="$(cd "$_root/../shared/data" && pwd)"
fi
export HF_HUB_OFFLINE=1
