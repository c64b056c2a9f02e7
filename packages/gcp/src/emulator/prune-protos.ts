import type { Namespace, ReflectionObject, Root, Service, Type } from 'protobufjs';

/**
 * The part of a proto root that some services (and extra message types) need: their methods' messages
 * and every message and enum those reach, as protobufjs JSON in the same namespaces. The Vertex protos
 * hold thousands of types; building gRPC definitions for only the reachable ones takes a fraction of
 * the time (@grpc/proto-loader builds descriptors for every type it is given).
 */
export function pruneProtos(root: Root, services: string[], extraTypes: string[]): Record<string, unknown> {
  const included = new Set<ReflectionObject>();
  const queue: ReflectionObject[] = [];
  const add = (object: ReflectionObject | null | undefined) => {
    if (!object) return;
    const top = topLevel(object);
    if (included.has(top)) return;
    included.add(top);
    queue.push(top);
  };
  for (const name of services) add(root.lookupService(name));
  for (const name of extraTypes) add(root.lookup(name));
  while (queue.length > 0) {
    const object = queue.pop()!;
    if (isService(object)) {
      for (const method of object.methodsArray) {
        method.resolve();
        add(method.resolvedRequestType);
        add(method.resolvedResponseType);
      }
    } else if (isType(object)) {
      for (const type of allTypes(object)) {
        for (const field of type.fieldsArray) {
          field.resolve();
          add(field.resolvedType);
        }
      }
    }
  }
  const result: Record<string, unknown> = { nested: {} };
  for (const object of included) {
    // Every node made here has a `nested` map: namespaces hold only what was reached.
    let node = result as { nested: Record<string, unknown> };
    for (const part of namespacePath(object)) {
      node.nested[part] ??= { nested: {} };
      node = node.nested[part] as { nested: Record<string, unknown> };
    }
    node.nested[object.name] = withoutOptions(object.toJSON());
  }
  return result;
}

/** The outermost message containing `object` (nested types travel with their parent), or itself. */
function topLevel(object: ReflectionObject): ReflectionObject {
  let current = object;
  while (current.parent && isType(current.parent)) current = current.parent;
  return current;
}

function namespacePath(object: ReflectionObject): string[] {
  const parts: string[] = [];
  for (let parent: Namespace | null = object.parent; parent?.parent; parent = parent.parent)
    parts.unshift(parent.name);
  return parts;
}

function allTypes(type: Type): Type[] {
  return [type, ...type.nestedArray.filter(isType).flatMap(allTypes)];
}

function isType(object: ReflectionObject | null): object is Type {
  return object !== null && 'fieldsArray' in object;
}

function isService(object: ReflectionObject): object is Service {
  return 'methodsArray' in object;
}

/** Options (google.api annotations) need their extension definitions; the wire does not use them. */
function withoutOptions(json: unknown): unknown {
  if (Array.isArray(json)) return json.map(withoutOptions);
  if (typeof json !== 'object' || json === null) return json;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    if (key === 'options' || key === 'parsedOptions') continue;
    result[key] = withoutOptions(value);
  }
  return result;
}
