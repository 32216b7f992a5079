/** Where the inventory is looked for when neither `--inventory` nor `JPROXY_INVENTORY` names one. */
export const DEFAULT_INVENTORY = './jproxy.yaml'
