export declare const PRODUCTION_DEFINES: Record<string, string>;
