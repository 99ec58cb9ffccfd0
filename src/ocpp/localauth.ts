// placeholder until the Local Auth List module lands (helper branch "auth")
export function authLocalLookup(idTag: string, nowEpochS: number): any {
    return undefined
}
export async function authCacheUpdate(idTag: string, idTagInfo: any) {}
