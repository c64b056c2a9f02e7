import { describe, expect, it } from 'vitest';
import { debianRequirements, ensurePrerequisites } from '../lib/prerequisites.mjs';

describe('prerequisites', () => {
  it('names every Debian package the bench runs on', () => {
    expect(debianRequirements.map((requirement) => requirement.debianPackage)).toEqual([
      'wrk',
      'python3-flask',
      'python3-sklearn',
      'python3-onnx',
      'gunicorn',
    ]);
  });

  it('passes silently when everything is there', () => {
    const lines: string[] = [];
    ensurePrerequisites({
      log: (line: string) => lines.push(line),
      install: false,
      requirements: [{ debianPackage: 'wrk', present: () => true }],
    });
    expect(lines).toEqual([]);
  });

  it('without installing, stops with the exact apt-get line for what is missing', () => {
    expect(() =>
      ensurePrerequisites({
        log: () => {},
        install: false,
        requirements: [
          { debianPackage: 'wrk', present: () => true },
          { debianPackage: 'python3-flask', present: () => false },
          { debianPackage: 'gunicorn', present: () => false },
        ],
      }),
    ).toThrow(
      'the bench needs these Debian packages: python3-flask gunicorn.\nInstall them with:\n  sudo apt-get update && sudo apt-get install -y --no-install-recommends python3-flask gunicorn',
    );
  });
});
