import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The Python interpreter Debian's python3-flask, python3-sklearn and gunicorn install into. */
export const systemPython = '/usr/bin/python3';

/** What the bench needs from Debian, each with a check. */
export const debianRequirements = [
  { debianPackage: 'wrk', present: () => onPath('wrk') },
  { debianPackage: 'python3-flask', present: () => pythonImports('flask') },
  { debianPackage: 'python3-sklearn', present: () => pythonImports('sklearn') },
  { debianPackage: 'python3-onnx', present: () => pythonImports('onnx') },
  { debianPackage: 'gunicorn', present: () => pythonImports('gunicorn') },
];

/**
 * Makes sure wrk, Flask, scikit-learn, onnx and gunicorn are installed. Missing ones are installed with
 * apt-get when the bench runs as root and apt works; otherwise it throws with the exact command to run.
 *
 * @param {{ log: (line: string) => void, install?: boolean,
 *   requirements?: { debianPackage: string, present: () => boolean }[] }} options
 */
export function ensurePrerequisites({ log, install = true, requirements = debianRequirements }) {
  const missingPackages = () =>
    requirements
      .filter((requirement) => !requirement.present())
      .map((requirement) => requirement.debianPackage);
  let missing = missingPackages();
  if (missing.length === 0) return;
  const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (install && root && onPath('apt-get')) {
    log(`installing missing Debian packages: ${missing.join(' ')}`);
    const update = spawnSync('apt-get', ['update'], { stdio: 'inherit' });
    const result =
      update.status === 0
        ? spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], {
            stdio: 'inherit',
            env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
          })
        : update;
    missing = missingPackages();
    if (result.status === 0 && missing.length === 0) return;
  }
  throw new Error(
    `the bench needs these Debian packages: ${missing.join(' ')}.\nInstall them with:\n  sudo apt-get update && sudo ${command}`,
  );
}

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function pythonImports(module) {
  if (!existsSync(systemPython)) return false;
  return spawnSync(systemPython, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}
