"""hilnas: hardware-in-the-loop NAS and deployment of hybrid vision transformers on Cortex-M.

Data flows one way, each stage handing the next a file:
space -> supernet -> convert -> board -> lut -> search -> deploy.
"""

__version__ = "0.1.0"
