export declare const nodeRefusal: (found: string, needed: string) => string | undefined;
export declare const requireNode: () => void;
