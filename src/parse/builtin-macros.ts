/**
 * tsdbt's built-in macros (package `dbt`) live as `.sql` files in
 * src/macros/dbt/ (naming: generate_schema_name / generate_alias_name /
 * generate_database_name and their `default__` forms, get_where_subquery;
 * the generic tests; dbt's cross-database macros; …). A project's own macro
 * of the same name overrides each of them, exactly as in dbt.
 */
export { builtinMacroFiles, builtinMacrosDigest, type BuiltinMacroFile } from '../macros/builtin-macros.ts';
