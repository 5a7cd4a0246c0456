// Types of validate-config.js, which scripts/gen-validators.js generates from
// schema/*.json with ajv (standalone code, `allErrors: true`, `messages: false`).
// Hand-written and committed; the .js is build output (see .gitignore).

/** One schema violation, as ajv reports it. */
export interface SchemaError {
  /** JSON pointer to the offending value ("" for the document itself). */
  instancePath: string;
  /** Where in the schema the failing keyword is. */
  schemaPath: string;
  /** The failing keyword: "type", "required", "enum", "additionalProperties", ... */
  keyword: string;
  /** Keyword-specific details (e.g. {missingProperty}, {allowedValues}, {type}). */
  params: Record<string, any>;
  message?: string;
}

export interface GeneratedValidator {
  (data: unknown): boolean;
  /** Set by the last call: null when it passed. */
  errors?: SchemaError[] | null;
}

/** config.json (schema/config-schema.json). */
export declare const validateConfig: GeneratedValidator;
/** A process object: config.json's "process" or an `exec --process` file (schema/config-process.json). */
export declare const validateProcess: GeneratedValidator;
/** linux.resources, or an `update --resources` file (schema/config-resources.json). */
export declare const validateResources: GeneratedValidator;
