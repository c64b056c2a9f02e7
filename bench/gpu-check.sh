#!/usr/bin/env bash
# The GPU path of issue 3: one prepared script that finds a working GPU route for onnxruntime-node 1.30 on
# a machine with an NVIDIA GPU and measures it against CPU on the reference model (MLP 784-512-512-10).
#
#   bash bench/gpu-check.sh --stage   on a machine that reaches the npm registry: puts what the GPU machine
#                                     needs offline into bench/.gpu-stage/ (onnxruntime-node 1.30 for linux
#                                     x64 only, its dependencies, model.onnx, libvulkan.so.1). Carry that
#                                     folder to the GPU machine.
#   bash bench/gpu-check.sh           on the GPU machine: tries each route, writes gpu-check.json,
#                                     gpu-check.md and gpu-check.log to $OUT (or bench/results/gpu-<date>/).
#
# Routes, in order (each is tried even when an earlier one worked, so the record is complete):
#   cpu                 the baseline: onnxruntime-node's CPU provider, every core
#   cuda-install-script ONNXRUNTIME_NODE_INSTALL=cuda12 with the package's install script (downloads the
#                       provider libraries from a NuGet feed; fails where that feed is unreachable)
#   cuda-provider-libs  libonnxruntime_providers_{cuda,shared}.so found on disk ($ORT_CUDA_PROVIDER_DIR,
#                       bench/.gpu-stage/cuda-provider, a Python onnxruntime-gpu wheel's capi folder, or
#                       anywhere under / ), copied beside the binding; a version other than 1.30 is tried
#                       and marked as a mismatch
#   cuda-pip-wheel      pip download onnxruntime-gpu==1.30.* and its CUDA 12 runtime wheels (needs PyPI)
#   webgpu              the WebGPU provider bundled in onnxruntime-node 1.30 (Dawn over Vulkan): needs
#                       libvulkan.so.1 and the NVIDIA Vulkan ICD; writes an ICD file when the driver's
#                       libGLX_nvidia.so.0 is there but its JSON is not
# Without a GPU (no nvidia-smi) the CUDA routes are skipped with that reason; cpu and webgpu still run.
# Environment: OUT, ORT_DIR (an onnxruntime-node package folder), MODEL (a .onnx file), DURATION_MS
# (per batch size, default 3000), BATCHES (default "1 32 256"), ORT_CUDA_PROVIDER_DIR.
# The CUDA routes contact the NuGet feed and PyPI; they run only where nvidia-smi lists a GPU.
set -uo pipefail

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(dirname "$bench_dir")"
stage_dir="$bench_dir/.gpu-stage"
ort_version="1.30.0"

log() { printf '[gpu-check %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# ---------------------------------------------------------------------------------------------------------
# --stage: prepare bench/.gpu-stage/ on a machine that reaches the npm registry (and Debian, for Vulkan).
stage() {
  set -e
  rm -rf "$stage_dir"
  mkdir -p "$stage_dir/ort" "$stage_dir/lib"
  # Its own package.json, so npm installs here instead of into the nearest workspace package above.
  echo '{"private": true}' >"$stage_dir/ort/package.json"
  log "installing onnxruntime-node@$ort_version into $stage_dir/ort (scripts off)"
  (cd "$stage_dir/ort" && npm install --no-save --no-package-lock --ignore-scripts --omit=dev \
    --no-audit --no-fund "onnxruntime-node@$ort_version" >/dev/null)
  local bin="$stage_dir/ort/node_modules/onnxruntime-node/bin/napi-v6"
  # Only linux/x64 is needed there; the other platforms' binaries would pass the carry limit.
  find "$bin" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} +
  find "$bin/linux" -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf {} +
  if [ -d "${ORT_CUDA_PROVIDER_DIR:-}" ]; then
    mkdir -p "$stage_dir/cuda-provider"
    cp -L "$ORT_CUDA_PROVIDER_DIR"/libonnxruntime_providers_*.so "$stage_dir/cuda-provider/"
  fi
  local vulkan
  vulkan="$(ldconfig -p 2>/dev/null | awk '/libvulkan\.so\.1 .*x86-64/ {print $NF; exit}')"
  if [ -z "$vulkan" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing libvulkan1 (the Vulkan loader Dawn needs) to copy it"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libvulkan1 >/dev/null || true
    vulkan="$(ldconfig -p 2>/dev/null | awk '/libvulkan\.so\.1 .*x86-64/ {print $NF; exit}')"
  fi
  if [ -n "$vulkan" ]; then cp -L "$vulkan" "$stage_dir/lib/libvulkan.so.1"; else log "no libvulkan.so.1 to stage"; fi
  if [ -n "${MODEL:-}" ]; then
    cp "$MODEL" "$stage_dir/model.onnx"
  else
    local seed="${MLSCALE_SEED_FLASK_DIR:-$repo_dir/../shared/peers/seed-flask}"
    /usr/bin/python3 "$seed/make_models.py" "$stage_dir/models" >/dev/null
    mv "$stage_dir/models/model.onnx" "$stage_dir/model.onnx"
    rm -rf "$stage_dir/models"
  fi
  log "staged $(du -sh "$stage_dir" | cut -f1) in $stage_dir: carry bench/.gpu-stage to the GPU machine"
}

if [ "${1:-}" = "--stage" ]; then
  stage
  exit 0
fi

# ---------------------------------------------------------------------------------------------------------
# The check itself.
out_dir="${OUT:-$bench_dir/results/gpu-$(date -u +%Y-%m-%dT%H-%M-%SZ)}"
mkdir -p "$out_dir"
work="$(mktemp -d "${TMPDIR:-/tmp}/mlscale-gpu-check-XXXXXX")"
trap 'rm -rf "$work"' EXIT
exec 2> >(tee -a "$out_dir/gpu-check.log" >&2)
results="$work/routes.jsonl"
: >"$results"
duration_ms="${DURATION_MS:-3000}"
batches="${BATCHES:-1 32 256}"
batches_json="[$(echo "$batches" | tr -s ' ' ',')]"

# Appends one route's record: name, status (worked | failed | skipped), reason, and the measure's JSON.
record() {
  local name="$1" status="$2" reason="$3" measure="${4:-null}"
  node -e '
    const [name, status, reason, measure] = process.argv.slice(1);
    process.stdout.write(JSON.stringify({ route: name, status, reason, measure: JSON.parse(measure || "null") }) + "\n");
  ' "$name" "$status" "$reason" "$measure" >>"$results"
  log "route $name: $status${reason:+ ($reason)}"
}

# CUDA libraries of a toolkit installed on the machine, for the CUDA routes.
cuda_toolkit_path=""
for directory in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
  [ -d "$directory" ] && cuda_toolkit_path="$cuda_toolkit_path$directory:"
done

# Runs gpu-measure.mjs with the onnxruntime-node package in $1 and provider $2; prints its JSON line.
measure() {
  local ort="$1" provider="$2"
  timeout 600 node "$bench_dir/gpu-measure.mjs" \
    "{\"ort\":\"$ort\",\"model\":\"$model\",\"provider\":\"$provider\",\"batches\":$batches_json,\"durationMs\":$duration_ms}" \
    2>>"$out_dir/gpu-check.log" | tail -n 1
}

# Tries a provider and records the route from the measure's JSON.
try_route() {
  local name="$1" ort="$2" provider="$3" note="${4:-}"
  local json
  json="$(measure "$ort" "$provider")"
  if [ -z "$json" ]; then json='{"ok":false,"error":"gpu-measure.mjs printed nothing (crashed or timed out)"}'; fi
  if echo "$json" | grep -q '"ok":true'; then
    record "$name" worked "$note" "$json"
    return 0
  fi
  local error
  error="$(node -e 'try { console.log(JSON.parse(process.argv[1]).error ?? "") } catch { console.log(process.argv[1]) }' "$json")"
  record "$name" failed "${note:+$note; }$error" "$json"
  return 1
}

# A private copy of the onnxruntime-node package and its dependencies, so a route can add provider
# libraries beside the binding without touching the workspace's node_modules.
copy_ort() {
  local target="$1"
  mkdir -p "$target"
  cp -rL "$(dirname "$ort_dir")" "$target/node_modules"
  echo "$target/node_modules/onnxruntime-node"
}

command -v node >/dev/null || { log "node is not installed: nothing can be measured"; exit 1; }

# --- The machine ----------------------------------------------------------------------------------------
gpu_present=false
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then gpu_present=true; fi
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "node: $(node --version)"
  echo "cpus: $(nproc) ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'))"
  if $gpu_present; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/gpu: /'
    nvidia-smi | grep -o 'CUDA Version: [0-9.]*' | sed 's/^/driver /'
  else
    echo "gpu: none (nvidia-smi not found or no device)"
  fi
  echo "libraries:"
  ldconfig -p 2>/dev/null | grep -E 'libcudart|libcublas\.|libcudnn\.|libvulkan|libGLX_nvidia|libnvidia-ml' |
    awk '{print "  " $1}' | sort -u
  echo "vulkan ICD files: $(ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null | tr '\n' ' ')"
} >"$work/machine.txt" 2>&1
cat "$work/machine.txt" >&2

# --- onnxruntime-node and the model ---------------------------------------------------------------------
ort_dir=""
for candidate in "${ORT_DIR:-}" "$stage_dir/ort/node_modules/onnxruntime-node" "$bench_dir/node_modules/onnxruntime-node"; do
  if [ -n "$candidate" ] && [ -f "$candidate/package.json" ]; then ort_dir="$(cd "$candidate" && pwd -P)"; break; fi
done
if [ -z "$ort_dir" ]; then
  log "no onnxruntime-node found; trying npm install onnxruntime-node@$ort_version"
  echo '{"private": true}' >"$work/package.json"
  if (cd "$work" && timeout 180 npm install --no-save --no-package-lock --ignore-scripts --no-audit --no-fund \
    "onnxruntime-node@$ort_version" >/dev/null 2>&1); then
    ort_dir="$work/node_modules/onnxruntime-node"
  fi
fi
model="${MODEL:-}"
if [ -z "$model" ] && [ -f "$stage_dir/model.onnx" ]; then model="$stage_dir/model.onnx"; fi
if [ -z "$model" ]; then
  seed="${MLSCALE_SEED_FLASK_DIR:-$repo_dir/../shared/peers/seed-flask}"
  if /usr/bin/python3 "$seed/make_models.py" "$work/models" >/dev/null 2>&1; then model="$work/models/model.onnx"; fi
fi

if [ -z "$ort_dir" ] || [ -z "$model" ]; then
  [ -z "$ort_dir" ] && record setup failed "no onnxruntime-node: carry bench/.gpu-stage (bash bench/gpu-check.sh --stage) or set ORT_DIR"
  [ -z "$model" ] && record setup failed "no model: carry bench/.gpu-stage, or set MODEL, or install python3-onnx python3-sklearn"
else
  log "onnxruntime-node: $ort_dir ($(node -p "require('$ort_dir/package.json').version"))"
  log "model: $model"

  # --- cpu: the baseline --------------------------------------------------------------------------------
  try_route cpu "$ort_dir" cpu "every core (onnxruntime's default intra-op threads)"

  if ! $gpu_present; then
    for route in cuda-install-script cuda-provider-libs cuda-pip-wheel; do
      record "$route" skipped "no NVIDIA GPU: nvidia-smi not found or it lists no device"
    done
  else
    # --- cuda-install-script ----------------------------------------------------------------------------
    ort_a="$(copy_ort "$work/route-install")"
    if (cd "$ort_a" && ONNXRUNTIME_NODE_INSTALL=cuda12 timeout 120 node script/install.js) >"$work/install.log" 2>&1; then
      LD_LIBRARY_PATH="$cuda_toolkit_path${LD_LIBRARY_PATH:-}" try_route cuda-install-script "$ort_a" cuda
    else
      record cuda-install-script failed "install script: $(grep -m 1 -E 'Error|error' "$work/install.log" | cut -c1-300)"
    fi

    # --- cuda-provider-libs: provider libraries already on disk -----------------------------------------
    candidates=()
    for directory in "${ORT_CUDA_PROVIDER_DIR:-}" "$stage_dir/cuda-provider"; do
      [ -n "$directory" ] && [ -f "$directory/libonnxruntime_providers_cuda.so" ] && candidates+=("$directory")
    done
    while IFS= read -r found; do candidates+=("$(dirname "$found")"); done < <(
      timeout 60 find / -xdev \( -path /proc -o -path "$work" \) -prune -o \
        -name libonnxruntime_providers_cuda.so -print 2>/dev/null | head -n 5)
    if [ "${#candidates[@]}" = 0 ]; then
      record cuda-provider-libs failed "no libonnxruntime_providers_cuda.so on this machine"
    else
      index=0
      for directory in "${candidates[@]}"; do
        index=$((index + 1))
        ort_b="$(copy_ort "$work/route-libs-$index")"
        bin="$ort_b/bin/napi-v6/linux/x64"
        cp -L "$directory"/libonnxruntime_providers_cuda.so "$directory"/libonnxruntime_providers_shared.so "$bin/" 2>/dev/null
        # A Python wheel's version, when the libraries came from one (site-packages/onnxruntime/capi).
        version="$(ls -d "$directory"/../../onnxruntime_gpu-*.dist-info 2>/dev/null | head -n 1 | sed 's/.*onnxruntime_gpu-\(.*\)\.dist-info/\1/')"
        note="from $directory${version:+ (onnxruntime-gpu $version)}"
        case "$version" in "" | 1.30.*) ;; *) note="$note; version mismatch with onnxruntime-node $ort_version" ;; esac
        # CUDA runtime libraries from NVIDIA's pip wheels beside it, if any (site-packages/nvidia/*/lib).
        extra="$(ls -d "$directory"/../../nvidia/*/lib 2>/dev/null | tr '\n' ':')$cuda_toolkit_path"
        missing="$(LD_LIBRARY_PATH="$extra${LD_LIBRARY_PATH:-}" ldd "$bin/libonnxruntime_providers_cuda.so" 2>/dev/null | awk '/not found/ {print $1}' | tr '\n' ' ')"
        [ -n "$missing" ] && note="$note; unresolved: $missing"
        LD_LIBRARY_PATH="$extra${LD_LIBRARY_PATH:-}" try_route "cuda-provider-libs" "$ort_b" cuda "$note" && break
      done
    fi

    # --- cuda-pip-wheel ---------------------------------------------------------------------------------
    if ! /usr/bin/python3 -m pip --version >/dev/null 2>&1 && ! command -v pip3 >/dev/null; then
      record cuda-pip-wheel skipped "no pip"
    else
      pip_run="/usr/bin/python3 -m pip"
      $pip_run --version >/dev/null 2>&1 || pip_run="pip3"
      if timeout 120 $pip_run download --retries 0 --timeout 15 --no-deps --only-binary=:all: --dest "$work/wheels" \
        "onnxruntime-gpu==1.30.*" nvidia-cuda-runtime-cu12 nvidia-cublas-cu12 nvidia-cudnn-cu12 nvidia-cufft-cu12 \
        nvidia-curand-cu12 nvidia-cuda-nvrtc-cu12 >"$work/pip.log" 2>&1; then
        mkdir -p "$work/site"
        for wheel in "$work"/wheels/*.whl; do (cd "$work/site" && python3 -m zipfile -e "$wheel" . >/dev/null); done
        ort_c="$(copy_ort "$work/route-wheel")"
        cp "$work"/site/onnxruntime/capi/libonnxruntime_providers_{cuda,shared}.so "$ort_c/bin/napi-v6/linux/x64/"
        extra="$(ls -d "$work"/site/nvidia/*/lib 2>/dev/null | tr '\n' ':')$cuda_toolkit_path"
        LD_LIBRARY_PATH="$extra${LD_LIBRARY_PATH:-}" try_route cuda-pip-wheel "$ort_c" cuda "$(ls "$work/wheels" | grep onnxruntime)"
      else
        record cuda-pip-wheel failed "pip download: $(tail -n 2 "$work/pip.log" | tr '\n' ' ' | cut -c1-300)"
      fi
    fi
  fi

  # --- webgpu: Dawn over Vulkan -----------------------------------------------------------------------------
  vulkan_path="${LD_LIBRARY_PATH:-}"
  if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1' && [ -f "$stage_dir/lib/libvulkan.so.1" ]; then
    vulkan_path="$stage_dir/lib${vulkan_path:+:$vulkan_path}"
  fi
  icd_note=""
  if $gpu_present && ! ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1; then
    glx="$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia\.so\.0 .*x86-64/ {print $NF; exit}')"
    if [ -n "$glx" ]; then
      printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$glx" >"$work/nvidia_icd.json"
      export VK_ICD_FILENAMES="$work/nvidia_icd.json"
      icd_note="wrote an NVIDIA ICD file for $glx"
    else
      icd_note="no NVIDIA Vulkan ICD and no libGLX_nvidia.so.0 (the container may lack the driver's graphics libraries)"
    fi
  fi
  XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$work}" LD_LIBRARY_PATH="$vulkan_path" try_route webgpu "$ort_dir" webgpu "$icd_note"
fi

# --- The record -------------------------------------------------------------------------------------------
node - "$results" "$work/machine.txt" "$out_dir" <<'EOF'
const { readFileSync, writeFileSync } = require('node:fs');
const [resultsPath, machinePath, outDir] = process.argv.slice(2);
const routes = readFileSync(resultsPath, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
const machine = readFileSync(machinePath, 'utf8');
const cpu = routes.find((route) => route.route === 'cpu' && route.status === 'worked');
const cpuByBatch = new Map((cpu?.measure?.figures ?? []).map((figure) => [figure.batch, figure.inferencesPerSecond]));
const batches = [...new Set(routes.flatMap((route) => (route.measure?.figures ?? []).map((figure) => figure.batch)))].sort((a, b) => a - b);
const lines = [
  '| route | status | ' + batches.map((batch) => `batch ${batch} inferences/s (× CPU)`).join(' | ') + ' | max diff from CPU | note |',
  '| ----- | ------ | ' + batches.map(() => '---:').join(' | ') + ' | ---: | ---- |',
];
for (const route of routes) {
  const figures = new Map((route.measure?.figures ?? []).map((figure) => [figure.batch, figure]));
  const cells = batches.map((batch) => {
    const figure = figures.get(batch);
    if (!figure) return '—';
    const base = cpuByBatch.get(batch);
    return `${Math.round(figure.inferencesPerSecond).toLocaleString('en-US')}${base ? ` (${(figure.inferencesPerSecond / base).toFixed(2)})` : ''}`;
  });
  const difference = Math.max(0, ...[...figures.values()].map((figure) => figure.maxDifferenceFromCpu));
  lines.push(`| ${route.route} | ${route.status} | ${cells.join(' | ')} | ${figures.size ? difference.toExponential(1) : '—'} | ${shorten(route.reason || '')} |`);
}
function shorten(text) {
  // onnxruntime's messages start with a source path; the reason is at the end.
  const flat = text.replace(/\|/g, '/');
  return flat.length > 300 ? `…${flat.slice(-300)}` : flat;
}
const worked = routes.filter((route) => route.status === 'worked' && route.route !== 'cpu').map((route) => route.route);
const markdown = `# GPU check\n\n\`\`\`\n${machine}\`\`\`\n\n${lines.join('\n')}\n\nGPU routes that worked: ${worked.length ? worked.join(', ') : 'none'}\n`;
writeFileSync(`${outDir}/gpu-check.md`, markdown);
writeFileSync(`${outDir}/gpu-check.json`, `${JSON.stringify({ machine, routes }, null, 2)}\n`);
process.stdout.write(markdown);
EOF
log "wrote $out_dir/gpu-check.json, gpu-check.md, gpu-check.log"
