/** Registered task types, optionally of one namespace and name. */
export const findTaskTypesSql = (s: string) => `
SELECT nt.id, ns.name AS namespace, nt.name, nt.version, nt.description, nt.definition, nt.created_at, nt.updated_at
  FROM ${s}.named_tasks nt JOIN ${s}.namespaces ns ON ns.id = nt.namespace_id
 WHERE ($1::text IS NULL OR ns.name = $1) AND ($2::text IS NULL OR nt.name = $2)
 ORDER BY ns.name, nt.name, nt.id`;
